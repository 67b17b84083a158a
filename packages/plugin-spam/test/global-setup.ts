import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type RunningServer, startRedis, startRspamd, startSpamd, which } from '../scripts/servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the test spamd, 0 when spamd is not installed (local runs only). */
    spamdPort: number;
    rspamdPort: number;
    redisPort: number;
    /** Why a server is missing, empty when all are there. */
    serversMissing: string;
  }
}

const servers: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  const missing = [
    ['spamd', 'spamd spamc'],
    ['rspamd', 'rspamd'],
    ['redis-server', 'redis-server'],
  ]
    .filter(([bin]) => !which(bin as string))
    .map(([bin, pkg]) => `${bin} (apt-get install ${pkg})`);
  if (missing.length) {
    const why = `not installed: ${missing.join(', ')}`;
    // The integration tests are the point of this suite: a missing server fails the run, never skips.
    throw new Error(`${why}; install the servers the tests use with: sudo bash scripts/install-servers.sh`);
  }
  const start = async <T extends RunningServer>(bin: string, fn: () => Promise<T>): Promise<number> => {
    if (!which(bin)) return 0;
    const s = await fn();
    servers.push(s);
    return s.port;
  };
  const [spamdPort, rspamdPort, redisPort] = await Promise.all([
    start('spamd', () => startSpamd({ bayes: true })),
    start('rspamd', () => startRspamd()),
    start('redis-server', () => startRedis()),
  ]);
  project.provide('spamdPort', spamdPort);
  project.provide('rspamdPort', rspamdPort);
  project.provide('redisPort', redisPort);
  project.provide('serversMissing', missing.join(', '));
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
