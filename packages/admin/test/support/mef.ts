/**
 * The `mef` command as an operator runs it: `mef relay --config FILE`, `mef admin --config FILE`
 * and `mef admin add-user`, each a process of its own on the TypeScript sources (tsx, the
 * `@mef/source` condition), so the tests need nothing built.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandProcess, type CommandResult, runCommand, startCommand } from '@mef/test-servers';

const PACKAGE = join(import.meta.dirname, '..', '..');
/** The cli's entry point, run by path: @mef/cli depends on @mef/admin, not the reverse. */
const BIN = join(PACKAGE, '..', 'cli', 'src', 'bin.ts');
/** A MEF_HOME of its own, so that no Bayes model of the machine's user is picked up. */
const HOME = mkdtempSync(join(tmpdir(), 'mef-admin-home-'));
const NODE_ARGS = ['--conditions=@mef/source', '--import', 'tsx', BIN];
const OPTIONS = { cwd: PACKAGE, env: { PATH: process.env.PATH ?? '', MEF_HOME: HOME } };

/** A long-running `mef` command. */
export type MefProcess = CommandProcess;

/**
 * Starts `mef ...args` and resolves once it has written a line matching `ready` (its first group
 * is `ready` of the result); fails with its output when it exits first or takes over `ms`.
 */
export function startMef(args: readonly string[], ready: RegExp, ms = 90_000): Promise<MefProcess> {
  return startCommand(process.execPath, [...NODE_ARGS, ...args], ready, { ...OPTIONS, timeoutMs: ms });
}

/** A finished `mef` command. */
export type MefRun = CommandResult;

/** Runs `mef ...args` to its end with `stdin`; SIGKILL after `ms`. */
export function runMef(args: readonly string[], stdin: string, ms = 90_000): Promise<MefRun> {
  return runCommand(process.execPath, [...NODE_ARGS, ...args], { ...OPTIONS, stdin, timeoutMs: ms });
}

/** The users the tests log in as: alice has a.test, bob b.test, root is an operator. */
export const USERS = {
  alice: { password: 'alice-secret-pass', args: ['--domain', 'a.test'] },
  bob: { password: 'bob-secret-pass!', args: ['--domain', 'b.test'] },
  root: { password: 'operator-pass-123', args: ['--operator'] },
} as const;

/** `mef admin add-user` for each of {@link USERS}, the password on standard input. */
export async function addUsers(config: string): Promise<void> {
  const runs = await Promise.all(
    Object.entries(USERS).map(([name, u]) =>
      runMef(['admin', 'add-user', name, ...u.args, '--config', config], `${u.password}\n`),
    ),
  );
  for (const r of runs) {
    if (r.code !== 0 || !/^added (user|operator) /.test(r.stdout)) {
      throw new Error(`mef admin add-user failed (${r.code}): ${r.stdout}${r.stderr}`);
    }
  }
}

/**
 * Each relay runs as two worker processes (the default on a 2-core machine, set here so the tests
 * do not depend on the machine). Connections go to the workers in turn; the primary reads the
 * settings and hands each change to both, then prints one line (see {@link settingsApplied}).
 */
export const RELAY_WORKERS = 2;

const APPLIED = /settings generation (\d+) from the database in force in all (\d+) workers/g;

/** The last settings generation the relay's primary reported in force in every worker (0: none yet). */
export function settingsGeneration(relay: MefProcess): number {
  let last = 0;
  for (const m of relay.stderr().matchAll(APPLIED)) last = Number(m[1]);
  return last;
}

/**
 * Resolves with the generation once the relay's primary reports settings newer than `after` in
 * force in every worker (a change saved in the store shows within its 2 s poll); fails with the
 * relay's output after `ms`.
 */
export async function settingsApplied(relay: MefProcess, after: number, ms = 15_000): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const g = settingsGeneration(relay);
    if (g > after) return g;
    if (Date.now() > until) {
      throw new Error(`no settings generation above ${after} in force within ${ms} ms:\n${relay.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The relay's transaction log lines (pino JSON on standard output; each has its worker's `pid`). */
export function loggedTransactions(
  relay: MefProcess,
): { pid: number; messageId?: string; disposition: string }[] {
  return relay
    .stdout()
    .split('\n')
    .flatMap((line) => {
      try {
        // The output kept is its last 64 KiB: its first line may be cut.
        return [JSON.parse(line) as { pid: number; messageId?: string; disposition: string }];
      } catch {
        return [];
      }
    });
}

/** What a test's config file holds besides the relay's host name and the shared database. */
export interface MefConfigInput {
  /** `admin.database`: a SQLite path (relative to the file) or a postgres:// URL. */
  database: string;
  /** `relay.hostname`. */
  hostname: string;
  /** `relay.domains`: the seed of the store (a.test and b.test, in monitor mode). */
  destination: string;
  /** More of the `admin:` section (dns, relays, submission). */
  admin?: Record<string, unknown>;
}

/**
 * Writes a config file with an `admin:` and a `relay:` section into `dir`: both on 127.0.0.1 and
 * any free port, the built-in rules (GTUBE), banned attachments quarantined, no Bayes model.
 */
export function writeMefConfig(dir: string, name: string, c: MefConfigInput): string {
  const file = join(dir, name);
  const config = {
    bayes: { enabled: false },
    attachments: { action: 'quarantine' },
    admin: { listen: { host: '127.0.0.1', port: 0 }, database: c.database, ...c.admin },
    relay: {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: c.hostname,
      workers: RELAY_WORKERS,
      // The primary hands the connections to the workers in turn, so a test's sequential
      // connections reach every worker (the default, kernel, lets a free worker take the next).
      scheduling: 'round-robin',
      domains: {
        'a.test': { destination: c.destination, monitor: true },
        'b.test': { destination: c.destination, monitor: true },
      },
    },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** `mef relay --config FILE`; `ready` is its SMTP port. */
export function startRelayCommand(config: string): Promise<MefProcess> {
  return startMef(['relay', '--config', config], /mef relay: listening on 127\.0\.0\.1:(\d+) /);
}

/** `mef admin --config FILE`; `ready` is its base URL. */
export function startAdminCommand(config: string): Promise<MefProcess> {
  return startMef(['admin', '--config', config], /mef admin: listening on (http:\/\/127\.0\.0\.1:\d+)/);
}
