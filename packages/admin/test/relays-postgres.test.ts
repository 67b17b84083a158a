import { createDatabase, type SinkServer as Sink, startSink } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { searchTransactions } from '../src/index.js';
import { Client } from './support/client.js';
import { type Fixture, PASSWORDS, startFixture } from './support/fixture.js';
import { type RelayProcess, relayConfig, sendMail, startRelayProcess, waitFor } from './support/relay.js';

// Two relays, each in a process of its own, and the admin interface share one real PostgreSQL
// (started by the global setup on 127.0.0.1). The relays are told nothing but the database.
let fx: Fixture;
let sink: Sink;
let relays: RelayProcess[] = [];

beforeAll(async () => {
  const url = await createDatabase(inject('postgresUrl'), 'admin_relays');
  sink = await startSink();
  fx = await startFixture(url, {}, {}, { a: `127.0.0.1:${sink.port}`, b: `127.0.0.1:${sink.port}` });
  const started = await Promise.allSettled(
    ['mx1.relay.test', 'mx2.relay.test'].map((name) =>
      startRelayProcess(url, relayConfig(name, { 'a.test': { destination: `127.0.0.1:${sink.port}` } })),
    ),
  );
  relays = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
}, 180_000);

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  await fx?.close();
  await sink?.stop();
});

describe('two relay processes and the interface on one PostgreSQL', () => {
  it('monitor mode: each relay delivers GTUBE tagged, and the rollout page counts both as would-reject', async () => {
    for (const [i, r] of relays.entries()) {
      const sent = await sendMail(r.port, 'user@a.test', `<gtube-monitor-${i}@spammer.example>`);
      expect(sent.code, `${sent.response} ${r.stderr()}`).toBe(250);
    }
    expect(sink.messages()).toHaveLength(2);
    for (const m of sink.messages()) expect(m).toContain('X-MEF-Monitor: would reject');
    const rows = await waitFor(
      () => searchTransactions(fx.store, 'a.test', { disposition: 'would-reject' }),
      (r) => r.length === 2,
      10_000,
    );
    expect(rows.map((r) => r.messageId).sort()).toEqual([
      '<gtube-monitor-0@spammer.example>',
      '<gtube-monitor-1@spammer.example>',
    ]);
    const alice = new Client(fx.base);
    expect((await alice.login('alice', PASSWORDS.alice)).status).toBe(303);
    const rollout = await (await alice.get('/domains/a.test/rollout')).text();
    expect(rollout).toMatch(/monitor mode would have refused <strong>2<\/strong> \(reject: 2\)/);
  });

  it('a setting changed through the interface reaches both relays within seconds: GTUBE is refused by each', async () => {
    const alice = new Client(fx.base);
    expect((await alice.login('alice', PASSWORDS.alice)).status).toBe(303);
    const csrf = await alice.csrf('/domains/a.test');
    // The settings form as the browser posts it with the monitor box unticked.
    const res = await alice.post('/domains/a.test/settings', {
      _csrf: csrf,
      destination: `127.0.0.1:${sink.port}`,
      'scanners.antivirus': 'on',
      'scanners.spam': 'on',
      'scanners.rbl': 'on',
      'scanners.greylist': 'on',
    });
    expect(res.status).toBe(303);
    const changed = Date.now();
    // Each relay polls the store every 500 ms: each try sends GTUBE until one is refused.
    const tries = await Promise.all(
      relays.map(async (r, i) => {
        let n = 0;
        const last = await waitFor(
          () => sendMail(r.port, 'user@a.test', `<gtube-live-${i}-${n++}@spammer.example>`),
          (sent) => sent.code !== 250,
          10_000,
        );
        return { last, ms: Date.now() - changed };
      }),
    );
    for (const t of tries) {
      expect(t.last.code, t.last.response).toBe(554);
      expect(t.ms).toBeLessThan(10_000);
    }
    const refused = await waitFor(
      () => searchTransactions(fx.store, 'a.test', { disposition: 'reject' }),
      (r) => r.length >= 2,
      10_000,
    );
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refused.map((r) => r.messageId?.replace(/-\d+@.*$/, '')))).toEqual(
      new Set(['<gtube-live-0', '<gtube-live-1']),
    );
    for (const r of refused) expect(r.symbols).toContain('GTUBE');
  });
});
