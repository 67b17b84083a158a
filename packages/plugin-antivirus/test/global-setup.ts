import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { CLAMD_BINARY, type ClamdServer, startClamd } from './support/clamd-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** TCP port of the shared clamd, 0 when clamd is not installed (local runs only). */
    clamdPort: number;
    clamdSocket: string;
    clamdMissing: string;
  }
}

let server: ClamdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!CLAMD_BINARY) {
    const why = 'clamd is not installed: apt-get install clamav-daemon clamdscan clamav-testfiles';
    if (process.env.CI) throw new Error(`CI: ${why}`);
    console.warn(`[plugin-antivirus] ${why}; the clamd integration tests are skipped`);
    project.provide('clamdPort', 0);
    project.provide('clamdSocket', '');
    project.provide('clamdMissing', why);
    return;
  }
  server = await startClamd();
  project.provide('clamdPort', server.port);
  project.provide('clamdSocket', server.socketPath);
  project.provide('clamdMissing', '');
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
