/**
 * A private PostgreSQL on loopback: `initdb` into a fresh folder, then `postgres` on a free port,
 * as the `postgres` user when run as root (PostgreSQL refuses to run as root).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  freePort,
  MissingServerError,
  outputTail,
  type RunningServer,
  running,
  stopChild,
  tempDir,
} from './process.js';

export interface PostgresServer extends RunningServer {
  /** URL of a database on it (default the maintenance database `postgres`). */
  url(database?: string): string;
}

/** The folder of the newest Debian PostgreSQL binaries; throws with install advice when none is installed. */
function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'postgres'))) return join(base, v, 'bin');
  throw new MissingServerError('postgres', 'postgresql');
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => {});
    return false;
  }
}

/** Starts PostgreSQL with trust authentication on 127.0.0.1; resolves once it accepts a connection. */
export async function startPostgres(
  options: { readonly startTimeoutMs?: number } = {},
): Promise<PostgresServer> {
  const bin = binDir();
  const dir = tempDir('pg');
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const initArgs = ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'];
  const init = spawnSync(...wrap(join(bin, 'initdb'), initArgs), { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  }
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const [cmd, args] = wrap(join(bin, 'postgres'), [
      ...['-D', data, '-k', dir, '-p', String(port)],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'],
    ]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const log = outputTail(child);
    const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (Date.now() < deadline && running(child)) {
      if (await accepts(url())) {
        const stop = async () => {
          // postmaster.pid's first line is the server's own PID (runuser sits in between when root).
          const pidFile = join(data, 'postmaster.pid');
          if (existsSync(pidFile)) {
            try {
              process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
            } catch {
              // already gone
            }
          }
          const end = Date.now() + 15_000;
          while (existsSync(pidFile) && Date.now() < end) await sleep(50);
          await stopChild(child, 'SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        };
        return { host: '127.0.0.1', port, url, stop };
      }
      await sleep(100);
    }
    lastError = log();
    await stopChild(child, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`postgres did not start: ${lastError}`);
}

/** Creates a fresh database (dropping one of that name) on the server at `serverUrl`; resolves with its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return serverUrl.replace(/\/[^/]*$/, `/${name}`);
}
