import { type ClamdServer, startClamd } from '@mef/test-servers';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** TCP port of the shared clamd. */
    clamdPort: number;
    clamdSocket: string;
  }
}

let server: ClamdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The integration tests are the point of this suite: a missing clamd fails the run with install advice.
  server = await startClamd();
  project.provide('clamdPort', server.port);
  project.provide('clamdSocket', server.socketPath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
