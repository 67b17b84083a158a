import { type RunningServer, startAll, startRedis, startRspamd, startSpamd } from '@mef/test-servers';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    spamdPort: number;
    rspamdPort: number;
    redisPort: number;
  }
}

let servers: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  // The integration tests are the point of this suite: a missing server fails the run with install advice.
  const { spamd, rspamd, redis } = await startAll({
    spamd: () => startSpamd({ bayes: true }),
    rspamd: () => startRspamd(),
    redis: () => startRedis(),
  });
  servers = [spamd, rspamd, redis];
  project.provide('spamdPort', spamd.port);
  project.provide('rspamdPort', rspamd.port);
  project.provide('redisPort', redis.port);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
