/**
 * Builds the `mef` binary (dist/bin.js) the tests spawn, and starts the real servers the
 * scanner flags are tested against, on loopback ports chosen at run time: clamd (with the
 * antivirus package's helper), rbldnsd (the rbl package's helper), spamd and rspamd (the spam
 * package's starters) and Redis (for `train --redis`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import {
  CLAMD_BINARY,
  type ClamdServer,
  startClamd,
} from '../../plugin-antivirus/test/support/clamd-server.js';
import { findRbldnsd, type Rbldnsd, startRbldnsd } from '../../plugin-rbl/test/helpers/rbldnsd.js';
import {
  type RunningServer,
  startRedis,
  startRspamd,
  startSpamd,
  which,
} from '../../plugin-spam/scripts/servers.js';
import { cliZones } from './fixtures/zones.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the built binary. */
    bin: string;
    /** clamd TCP port and unix socket; 0 and '' when clamd is not installed (local runs only). */
    clamdPort: number;
    clamdSocket: string;
    /** rbldnsd UDP port; 0 when rbldnsd is not installed (local runs only). */
    dnsPort: number;
    /** spamd and rspamd TCP ports; 0 when not installed (local runs only). */
    spamdPort: number;
    rspamdPort: number;
    /** Redis port for `train --redis`; 0 when not installed (local runs only). */
    redisPort: number;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
let clamd: ClamdServer | undefined;
let dns: Rbldnsd | undefined;
let spamd: RunningServer | undefined;
let rspamd: RunningServer | undefined;
let redis: RunningServer | undefined;

function missing(what: string, install: string): never {
  const why = `${what} is not installed (apt-get install ${install})`;
  // The tests of each scanner flag run against the real server: a missing one fails the run.
  throw new Error(`${why}; install the servers the tests use with: sudo bash scripts/install-servers.sh`);
}

export async function setup(project: TestProject): Promise<void> {
  // The binary as a user gets it: `pnpm build` (tsup), without the library's type build.
  const build = spawnSync('npx', ['tsup'], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, MEF_BUILD_BIN_ONLY: '1' },
  });
  if (build.status !== 0) throw new Error(`building dist/bin.js failed:\n${build.stdout}\n${build.stderr}`);
  project.provide('bin', join(pkg, 'dist/bin.js'));

  const [c, d, s, r, k] = await Promise.all([
    CLAMD_BINARY ? startClamd() : Promise.resolve(undefined),
    (async () => {
      const bin = findRbldnsd();
      return bin ? startRbldnsd(bin, cliZones) : undefined;
    })(),
    which('spamd') ? startSpamd() : Promise.resolve(undefined),
    which('rspamd') ? startRspamd() : Promise.resolve(undefined),
    which('redis-server') ? startRedis() : Promise.resolve(undefined),
  ]);
  clamd = c;
  dns = d;
  spamd = s;
  rspamd = r;
  redis = k;
  if (!clamd) missing('clamd', 'clamav-daemon');
  if (!dns) missing('rbldnsd', 'rbldnsd');
  if (!spamd) missing('spamd', 'spamd spamc');
  if (!rspamd) missing('rspamd', 'rspamd');
  if (!redis) missing('redis-server', 'redis-server');
  project.provide('clamdPort', clamd?.port ?? 0);
  project.provide('clamdSocket', clamd?.socketPath ?? '');
  project.provide('dnsPort', dns?.port ?? 0);
  project.provide('spamdPort', spamd?.port ?? 0);
  project.provide('rspamdPort', rspamd?.port ?? 0);
  project.provide('redisPort', redis?.port ?? 0);
}

export async function teardown(): Promise<void> {
  await Promise.all([clamd?.stop(), dns?.stop(), spamd?.stop(), rspamd?.stop(), redis?.stop()]);
}
