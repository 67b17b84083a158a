import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, type SinkServer as Sink, startSink } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Store, searchTransactions } from '../src/index.js';
import { Client } from './support/client.js';
import {
  addUsers,
  loggedTransactions,
  type MefProcess,
  RELAY_WORKERS,
  settingsApplied,
  settingsGeneration,
  startAdminCommand,
  startRelayCommand,
  USERS,
  writeMefConfig,
} from './support/mef.js';
import { EXE_ATTACHMENT, sendMail, waitFor } from './support/relay.js';

// Two `mef relay` processes and `mef admin` share one real PostgreSQL (started by the global
// setup on 127.0.0.1): each config file names the database, nothing else ties them together.
let dir: string;
let sink: Sink;
let store: Store;
let relays: MefProcess[] = [];
let admin: MefProcess | undefined;
let base: string;

beforeAll(async () => {
  const url = await createDatabase(inject('postgresUrl'), 'admin_relays');
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'mef-admin-pg-'));
  const files = ['mx1', 'mx2'].map((name) =>
    writeMefConfig(dir, `${name}.json`, {
      database: url,
      hostname: `${name}.relay.test`,
      destination: `127.0.0.1:${sink.port}`,
    }),
  );
  // Both relays start at once on the empty database: each migrates and seeds a.test and b.test.
  const started = await Promise.allSettled(files.map((f) => startRelayCommand(f)));
  relays = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  await addUsers(files[0] as string);
  admin = await startAdminCommand(files[0] as string);
  base = admin.ready;
  // The test reads the verdict log the relays write, as a third client of the database.
  store = await openStore(url);
}, 240_000);

afterAll(async () => {
  await Promise.all([...relays.map((r) => r.stop()), admin?.stop()]);
  await store?.close();
  await sink?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The verdict-log rows of a.test with this disposition, once there are `n`. */
function rows(disposition: string, n: number) {
  return waitFor(
    () => searchTransactions(store, 'a.test', { disposition }),
    (r) => r.length >= n,
    15_000,
  );
}

describe('two `mef relay` processes and `mef admin` on one PostgreSQL', () => {
  it('monitor mode: each relay delivers GTUBE and a banned attachment tagged; the rollout page counts both outcomes', async () => {
    for (const [i, r] of relays.entries()) {
      const port = Number(r.ready);
      const gtube = await sendMail(port, 'user@a.test', `<gtube-monitor-${i}@spammer.example>`);
      expect(gtube.code, `${gtube.response} ${r.stderr()}`).toBe(250);
      const exe = await sendMail(port, 'user@a.test', `<exe-monitor-${i}@spammer.example>`, {
        body: 'Please pay the attached invoice.',
        attachments: [EXE_ATTACHMENT],
      });
      expect(exe.code, exe.response).toBe(250);
    }
    const delivered = sink.messages();
    expect(delivered).toHaveLength(4);
    expect(delivered.filter((m) => m.includes('X-MEF-Monitor: would reject'))).toHaveLength(2);
    expect(delivered.filter((m) => m.includes('X-MEF-Monitor: would quarantine'))).toHaveLength(2);
    expect((await rows('would-reject', 2)).map((r) => r.messageId).sort()).toEqual([
      '<gtube-monitor-0@spammer.example>',
      '<gtube-monitor-1@spammer.example>',
    ]);
    expect((await rows('would-quarantine', 2)).map((r) => r.messageId).sort()).toEqual([
      '<exe-monitor-0@spammer.example>',
      '<exe-monitor-1@spammer.example>',
    ]);
    const alice = new Client(base);
    expect((await alice.login('alice', USERS.alice.password)).status).toBe(303);
    const rollout = await (await alice.get('/domains/a.test/rollout')).text();
    expect(rollout).toMatch(/monitor mode would have refused <strong>4<\/strong>/);
    expect(rollout).toContain(
      'quarantine: <a href="/domains/a.test/traffic?disposition=would-quarantine">2</a>',
    );
    expect(rollout).toContain('reject: <a href="/domains/a.test/traffic?disposition=would-reject">2</a>');
  });

  it('settings changed in the interface reach both relays within seconds: GTUBE refused, the attachment quarantined, a blocked sender refused', async () => {
    const alice = new Client(base);
    expect((await alice.login('alice', USERS.alice.password)).status).toBe(303);
    const csrf = await alice.csrf('/domains/a.test');
    const before = relays.map((r) => settingsGeneration(r));
    // The settings form as the browser posts it: monitor unticked, a quarantine address, a block list.
    const res = await alice.post('/domains/a.test/settings', {
      _csrf: csrf,
      destination: `127.0.0.1:${sink.port}`,
      'scanners.antivirus': 'on',
      'scanners.spam': 'on',
      'scanners.rbl': 'on',
      'scanners.greylist': 'on',
      'senders.block': '@blocked.example',
      quarantine: 'quarantine@a.test',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/domains/a.test?saved=3');
    const changed = Date.now();
    // Each relay's primary reads the store every 2 s and prints one line once both its workers
    // have the change; from then on every connection sees it, the first one included.
    await Promise.all(relays.map((r, i) => settingsApplied(r, before[i] as number)));
    expect(Date.now() - changed).toBeLessThan(15_000);
    // Several connections in a row on each relay, so that each of its workers gets some.
    const n = 2 * RELAY_WORKERS;
    const ids = relays.flatMap((_, i) =>
      Array.from({ length: n }, (_, j) => `<gtube-live-${i}-${j}@spammer.example>`),
    );
    for (const [i, r] of relays.entries()) {
      for (let j = 0; j < n; j++) {
        const sent = await sendMail(Number(r.ready), 'user@a.test', `<gtube-live-${i}-${j}@spammer.example>`);
        expect(sent.code, sent.response).toBe(554);
      }
    }
    const rejected = await rows('reject', ids.length);
    expect(rejected.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    for (const r of rejected) expect(r.symbols).toContain('GTUBE');
    // Each worker writes its log lines in batches (at least every 200 ms): wait for all of them.
    for (const r of relays) {
      const lines = await waitFor(
        () => loggedTransactions(r).filter((t) => t.messageId?.startsWith('<gtube-live-')),
        (l) => l.length >= n,
        10_000,
      );
      expect(new Set(lines.map((t) => t.pid)).size, r.stderr()).toBe(RELAY_WORKERS);
    }

    // Quarantine is now real: each relay sends the message to the quarantine address only.
    for (const [i, r] of relays.entries()) {
      const sent = await sendMail(Number(r.ready), 'user@a.test', `<exe-live-${i}@spammer.example>`, {
        body: 'Please pay the attached invoice.',
        attachments: [EXE_ATTACHMENT],
      });
      expect(sent.code, sent.response).toBe(250);
    }
    const quarantined = sink.messages().filter((m) => m.includes('<exe-live-'));
    expect(quarantined).toHaveLength(2);
    for (const m of quarantined) {
      // smtp-sink's envelope lines: the quarantine address is the only recipient.
      expect(m).toContain('X-Rcpt-Args: <quarantine@a.test>');
      expect(m).not.toContain('X-Rcpt-Args: <user@a.test>');
      expect(m).not.toContain('X-MEF-Monitor');
    }
    expect((await rows('quarantine', 2)).map((r) => r.messageId).sort()).toEqual([
      '<exe-live-0@spammer.example>',
      '<exe-live-1@spammer.example>',
    ]);

    // The block list: a clean message from the blocked domain is refused by each relay.
    for (const r of relays) {
      const sent = await sendMail(Number(r.ready), 'user@a.test', '<hello@blocked.example>', {
        body: 'Hello, a plain message.',
        from: 'someone@blocked.example',
      });
      expect(sent.code, sent.response).toBe(554);
      expect(sent.response).toContain('Sender blocked');
    }
  });
});
