import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { CLAMD_BINARY, type ClamdServer, startClamd } from './support/clamd-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** TCP port of the shared clamd, 0 when clamd is not installed (local runs only). */
    clamdPort: number;
    clamdSocket: string;
  }
}

let server: ClamdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!CLAMD_BINARY) {
    const why = 'clamd is not installed: apt-get install clamav-daemon clamdscan clamav-testfiles';
    // The integration tests are the point of this suite: a missing server fails the run, never skips.
    throw new Error(`${why}; install the servers the tests use with: sudo bash scripts/install-servers.sh`);
  }
  server = await startClamd();
  project.provide('clamdPort', server.port);
  project.provide('clamdSocket', server.socketPath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
