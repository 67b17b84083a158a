import type { TestProject } from 'vitest/node';
import { testZones } from './fixtures/zones.js';
import { findRbldnsd, type Rbldnsd, startRbldnsd } from './helpers/rbldnsd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the test rbldnsd on 127.0.0.1, or 0 when rbldnsd is not installed. */
    rbldnsdPort: number;
  }
}

let server: Rbldnsd | undefined;

export async function setup(project: TestProject): Promise<void> {
  const bin = findRbldnsd();
  if (!bin) {
    // The integration tests are the point of this suite: a missing server fails the run, never skips.
    throw new Error(
      'rbldnsd is not installed (apt-get install rbldnsd); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  server = await startRbldnsd(bin, testZones);
  project.provide('rbldnsdPort', server.port);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
