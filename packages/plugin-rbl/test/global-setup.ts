import { type RbldnsdServer, startRbldnsd } from '@mef/test-servers';
import type { TestProject } from 'vitest/node';
import { testZones } from './fixtures/zones.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the test rbldnsd on 127.0.0.1. */
    rbldnsdPort: number;
  }
}

let server: RbldnsdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The integration tests are the point of this suite: a missing rbldnsd fails the run with install advice.
  server = await startRbldnsd(testZones);
  project.provide('rbldnsdPort', server.port);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
