import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SinkServer as Sink, startSink } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store, searchTransactions, updateDomain } from '../src/index.js';
import {
  loggedTransactions,
  type MefProcess,
  RELAY_WORKERS,
  settingsApplied,
  settingsGeneration,
  startRelayCommand,
  writeMefConfig,
} from './support/mef.js';
import { sendMail, waitFor } from './support/relay.js';

// `mef relay` with two workers on a SQLite store: the primary alone reads the settings and writes
// the verdict log; the workers get each change from it over IPC and send it their records.
let dir: string;
let sink: Sink;
let store: Store;
let relay: MefProcess;
let port: number;
let destination: string;

beforeAll(async () => {
  sink = await startSink();
  destination = `127.0.0.1:${sink.port}`;
  dir = mkdtempSync(join(tmpdir(), 'mef-admin-workers-'));
  const file = writeMefConfig(dir, 'mef.json', {
    database: 'admin.db',
    hostname: 'mx1.relay.test',
    destination,
  });
  relay = await startRelayCommand(file);
  port = Number(relay.ready);
  store = await openStore(join(dir, 'admin.db'));
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  await store?.close();
  await sink?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The files a process holds open (its /proc fd links); a descriptor closed meanwhile is left out. */
function openFiles(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** Whether `pid` holds the store open (the database file, its WAL or shared memory). */
function holdsStore(pid: number): boolean {
  return openFiles(pid).some((f) => f.startsWith(join(dir, 'admin.db')));
}

/** Sends GTUBE to user@a.test `n` times, one connection each, with these Message-ID prefixes. */
async function gtube(prefix: string, n: number) {
  const sent = [];
  for (let i = 0; i < n; i++)
    sent.push(await sendMail(port, 'user@a.test', `<${prefix}-${i}@spammer.example>`));
  return sent;
}

/** The worker pids that logged a transaction whose Message-ID starts with `<prefix`. */
async function servedBy(prefix: string, n: number): Promise<Set<number>> {
  const lines = await waitFor(
    () => loggedTransactions(relay).filter((t) => t.messageId?.startsWith(`<${prefix}`)),
    (l) => l.length >= n,
    10_000,
  );
  return new Set(lines.map((t) => t.pid));
}

describe('`mef relay` with two workers and the admin database', () => {
  it('the primary alone opens the store; the verdict log holds the rows of every worker', async () => {
    const sent = await gtube('monitor', 2 * RELAY_WORKERS);
    for (const s of sent) expect(s.code, s.response).toBe(250);
    const workers = await servedBy('monitor', 2 * RELAY_WORKERS);
    // Connections go to the workers in turn: both served.
    expect(workers.size).toBe(RELAY_WORKERS);
    const primary = relay.child.pid as number;
    expect(workers.has(primary)).toBe(false);
    // No worker has a handle on the database: it cannot read the settings or write a row itself.
    for (const pid of workers)
      expect(holdsStore(pid), `worker ${pid}: ${openFiles(pid).join(' ')}`).toBe(false);
    expect(holdsStore(primary)).toBe(true);
    const rows = await waitFor(
      () => searchTransactions(store, 'a.test', { text: 'monitor-' }),
      (r) => r.length >= 2 * RELAY_WORKERS,
      10_000,
    );
    expect(rows.map((r) => r.disposition)).toEqual(Array(2 * RELAY_WORKERS).fill('would-reject'));
  });

  it('a change in the store is in force in every worker once the primary says so: each new connection sees it at the first try', async () => {
    const before = settingsGeneration(relay);
    await updateDomain(store, 'a.test', { destination, monitor: false }, 'operator');
    const changed = Date.now();
    const generation = await settingsApplied(relay, before);
    // Within the primary's 2 s poll and one round of IPC.
    expect(Date.now() - changed).toBeLessThan(5_000);
    const sent = await gtube('live', 2 * RELAY_WORKERS);
    expect(sent.map((s) => s.code)).toEqual(Array(2 * RELAY_WORKERS).fill(554));
    expect((await servedBy('live', 2 * RELAY_WORKERS)).size).toBe(RELAY_WORKERS);
    // The same settings read again make no new generation.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(settingsGeneration(relay)).toBe(generation);
  });

  it('SIGHUP reloads the file in every worker and keeps the store’s settings, not the file’s seed', async () => {
    const generation = settingsGeneration(relay);
    relay.child.kill('SIGHUP');
    const reloaded = await waitFor(
      () => /reloaded .*: domains from the database \((\d+) workers\)/.exec(relay.stderr()),
      (m) => m !== null,
      30_000,
    );
    expect(reloaded?.[1], relay.stderr()).toBe(String(RELAY_WORKERS));
    // The file says monitor: true; the store says monitor: false, and stays in force.
    const sent = await gtube('reloaded', 2 * RELAY_WORKERS);
    expect(sent.map((s) => s.code)).toEqual(Array(2 * RELAY_WORKERS).fill(554));
    expect((await servedBy('reloaded', 2 * RELAY_WORKERS)).size).toBe(RELAY_WORKERS);
    expect(settingsGeneration(relay)).toBe(generation);
  });

  it('a worker that does not answer holds the line back, and the primary names it; once it runs again the line comes', async () => {
    const [stuck] = await servedBy('reloaded', 1);
    const pid = stuck as number;
    const before = settingsGeneration(relay);
    // SIGSTOP: the worker cannot read the primary's message until SIGCONT.
    process.kill(pid, 'SIGSTOP');
    try {
      await updateDomain(store, 'b.test', { destination, monitor: false }, 'operator');
      const lag = await waitFor(
        () => /settings generation (\d+) not applied by worker (\d+) within 10 s/.exec(relay.stderr()),
        (m) => m !== null,
        20_000,
      );
      expect(lag?.[2], relay.stderr()).toBe(String(pid));
      expect(Number(lag?.[1])).toBeGreaterThan(before);
      // The other worker has it, but the primary does not call it in force in all.
      expect(settingsGeneration(relay)).toBe(before);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await settingsApplied(relay, before)).toBeGreaterThan(before);
  });

  it('a worker that dies is replaced by one that serves with the settings in force, not the file’s seed', async () => {
    const [victim] = await servedBy('live', 1);
    process.kill(victim as number, 'SIGKILL');
    const replaced = await waitFor(
      () => /worker (\d+) listening in place of (\d+)/.exec(relay.stderr()),
      (m) => m !== null,
      30_000,
    );
    expect(replaced?.[2], relay.stderr()).toBe(String(victim));
    const fresh = Number(replaced?.[1]);
    // monitor: false from the store; the file's seed says monitor: true (GTUBE would get 250).
    const sent = await gtube('replaced', 2 * RELAY_WORKERS);
    expect(sent.map((s) => s.code)).toEqual(Array(2 * RELAY_WORKERS).fill(554));
    const workers = await servedBy('replaced', 2 * RELAY_WORKERS);
    expect(workers.has(fresh)).toBe(true);
    expect(holdsStore(fresh)).toBe(false);
    // A later change reaches the replacement too: monitor mode back on, GTUBE delivered tagged.
    const before = settingsGeneration(relay);
    await updateDomain(store, 'a.test', { destination, monitor: true }, 'operator');
    await settingsApplied(relay, before);
    const tagged = await gtube('monitor-again', 2 * RELAY_WORKERS);
    expect(tagged.map((s) => s.code)).toEqual(Array(2 * RELAY_WORKERS).fill(250));
    expect((await servedBy('monitor-again', 2 * RELAY_WORKERS)).has(fresh)).toBe(true);
  });

  it('on SIGTERM the primary writes every record its workers sent before it closes the store', async () => {
    const sent = await gtube('last', 2 * RELAY_WORKERS);
    for (const s of sent) expect(s.code, s.response).toBe(250);
    await relay.stop();
    expect(relay.child.exitCode, relay.stderr()).toBe(0);
    const logged = loggedTransactions(relay).filter((t) => t.messageId);
    // Six rounds of messages, each on two connections per worker.
    expect(logged.length).toBe(6 * 2 * RELAY_WORKERS);
    // Read at once, not waited for: the relay has exited, so its rows are all there or never.
    const rows = await searchTransactions(store, 'a.test', { limit: 100 });
    expect(rows.map((r) => r.messageId).sort()).toEqual(logged.map((t) => t.messageId).sort());
  });
});
