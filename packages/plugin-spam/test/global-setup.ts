import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type RunningServer, startRedis, startRspamd, startSpamd, which } from '../scripts/servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    spamdPort: number;
    rspamdPort: number;
    redisPort: number;
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
  const start = async <T extends RunningServer>(fn: () => Promise<T>): Promise<number> => {
    const s = await fn();
    servers.push(s);
    return s.port;
  };
  const [spamdPort, rspamdPort, redisPort] = await Promise.all([
    start(() => startSpamd({ bayes: true })),
    start(() => startRspamd()),
    start(() => startRedis()),
  ]);
  project.provide('spamdPort', spamdPort);
  project.provide('rspamdPort', rspamdPort);
  project.provide('redisPort', redisPort);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
