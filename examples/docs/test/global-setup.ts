import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAll, startClamd, startRbldnsd, startRedis, startRspamd, stopList } from '@mef/test-servers';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Environment the examples read their server addresses from. */
    docsEnv: Record<string, string>;
  }
}

const stops = stopList();

export async function setup(project: TestProject): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'mef-docs-'));
  stops.defer(() => rm(tmp, { recursive: true, force: true }));
  // The real list names, served on loopback: the README examples use the lists' defaults.
  const { clamd, dns, rspamd, redis } = await startAll({
    clamd: () => startClamd(),
    dns: () =>
      startRbldnsd([
        { zone: 'zen.spamhaus.org', type: 'ip4set', content: ':127.0.0.2:Listed\n127.0.0.2\n' },
        { zone: 'dbl.spamhaus.org', type: 'dnset', content: ':127.0.1.2:Listed\ntest\ndbltest.com\n' },
        { zone: 'list.dnswl.org', type: 'ip4set', content: ':127.0.10.0:Allowlisted\n127.0.0.2\n' },
      ]),
    rspamd: () => startRspamd(),
    redis: () => startRedis(),
  });
  for (const s of [clamd, dns, rspamd, redis]) stops.add(s);
  project.provide('docsEnv', {
    CLAMD: `127.0.0.1:${clamd.port}`,
    DNS_SERVER: `127.0.0.1:${dns.port}`,
    RSPAMD_PORT: String(rspamd.port),
    REDIS_PORT: String(redis.port),
    BAYES_FILE: join(tmp, 'bayes.json'),
    MEF_ADMIN_DATABASE: join(tmp, 'admin.db'),
  });
}

export async function teardown(): Promise<void> {
  await stops.stopAll().catch(() => undefined);
}
