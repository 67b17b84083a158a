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
    if (process.env.CI)
      throw new Error('rbldnsd is not installed: CI must install the Debian package rbldnsd');
    console.warn(
      '\n[plugin-rbl] rbldnsd is not installed: the integration tests are SKIPPED (apt-get install rbldnsd)\n',
    );
    project.provide('rbldnsdPort', 0);
    return;
  }
  server = await startRbldnsd(bin, testZones);
  project.provide('rbldnsdPort', server.port);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
