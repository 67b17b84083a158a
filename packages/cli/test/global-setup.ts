/**
 * Builds the `mef` binary (dist/bin.js) the tests spawn, and starts the real servers the
 * scanner flags are tested against, on loopback ports chosen at run time (with
 * `@mef/test-servers`): clamd, rbldnsd, spamd, rspamd and Redis (for `train --redis`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClamdServer,
  type RbldnsdServer,
  type RunningServer,
  startAll,
  startClamd,
  startRbldnsd,
  startRedis,
  startRspamd,
  startSpamd,
} from '@mef/test-servers';
import type { TestProject } from 'vitest/node';
import { cliZones } from './fixtures/zones.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the built binary. */
    bin: string;
    /** clamd TCP port and unix socket. */
    clamdPort: number;
    clamdSocket: string;
    /** rbldnsd UDP port. */
    dnsPort: number;
    /** spamd and rspamd TCP ports. */
    spamdPort: number;
    rspamdPort: number;
    /** Redis port for `train --redis`. */
    redisPort: number;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
let clamd: ClamdServer | undefined;
let dns: RbldnsdServer | undefined;
let spamd: RunningServer | undefined;
let rspamd: RunningServer | undefined;
let redis: RunningServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The binary as a user gets it: `pnpm build` (tsup), without the library's type build.
  const build = spawnSync('npx', ['tsup'], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, MEF_BUILD_BIN_ONLY: '1' },
  });
  if (build.status !== 0) throw new Error(`building dist/bin.js failed:\n${build.stdout}\n${build.stderr}`);
  project.provide('bin', join(pkg, 'dist/bin.js'));

  // The tests of each scanner flag run against the real server: a missing one fails the run
  // with install advice.
  ({ clamd, dns, spamd, rspamd, redis } = await startAll({
    clamd: () => startClamd(),
    dns: () => startRbldnsd(cliZones),
    spamd: () => startSpamd(),
    rspamd: () => startRspamd(),
    redis: () => startRedis(),
  }));
  project.provide('clamdPort', clamd.port);
  project.provide('clamdSocket', clamd.socketPath);
  project.provide('dnsPort', dns.port);
  project.provide('spamdPort', spamd.port);
  project.provide('rspamdPort', rspamd.port);
  project.provide('redisPort', redis.port);
}

export async function teardown(): Promise<void> {
  await Promise.all([clamd?.stop(), dns?.stop(), spamd?.stop(), rspamd?.stop(), redis?.stop()]);
}
