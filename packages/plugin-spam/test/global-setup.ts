import { type RunningServer, startRedis, startRspamd, startSpamd } from '@mef/test-servers';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    spamdPort: number;
    rspamdPort: number;
    redisPort: number;
  }
}

const servers: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  // The integration tests are the point of this suite: a missing server fails the run with install advice.
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
