import { setTimeout as sleep } from 'node:timers/promises';
import type { Plugin } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { clientNetwork, greylist, MemoryGreylistStore, RedisGreylistStore } from '../src/index.js';

const message = 'From: a@example.test\r\nSubject: hi\r\n\r\nhello\r\n';

/** A stage that gives the message a fixed score, standing in for the spam rules. */
const scoreOf = (score: number): Plugin => ({
  name: 'fixed-score',
  message(ctx) {
    ctx.findings.symbol('FIXED_SCORE', score);
  },
});

function clock(start = 1_800_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const envelope = {
  clientAddress: '192.0.2.10',
  mailFrom: 'sender@example.test',
  recipients: ['rcpt@example.net'],
};

describe('greylist()', () => {
  it('defers a message scoring 5 once, then delivers its retry after the delay, and remembers the triplet', async () => {
    const c = clock();
    const store = new MemoryGreylistStore({ now: c.now });
    const stages = () => [scoreOf(5), greylist({ store, now: c.now })];

    const first = await runPlugin(stages(), message, envelope);
    expectVerdict(first).toTempfail().toHaveSymbol('GREYLIST_NEW');
    expect(first.reply).toMatchObject({ code: 451, enhanced: '4.7.1' });
    expect(first.reply?.lines[0]).toMatch(/try again in 300 seconds/);

    c.advance(60_000);
    const early = await runPlugin(stages(), message, envelope);
    expectVerdict(early).toTempfail().toHaveSymbol('GREYLIST_EARLY');
    expect(early.reply?.lines[0]).toMatch(/240 seconds/);

    c.advance(250_000);
    const retry = await runPlugin(stages(), message, envelope);
    expectVerdict(retry).toAccept().toHaveSymbol('GREYLIST_PASS').toHaveNoErrors();
    expect(retry.score.action).toBe('greylist');

    // Remembered: a new message of the same triplet a week later passes at once.
    c.advance(7 * 86_400_000);
    expectVerdict(await runPlugin(stages(), message, envelope))
      .toAccept()
      .toHaveSymbol('GREYLIST_PASS');
  });

  it('works with real time too (delay 300 ms)', async () => {
    const stages = (store: MemoryGreylistStore) => [
      scoreOf(5),
      greylist({ store, delay: 300, window: 5_000 }),
    ];
    const store = new MemoryGreylistStore();
    expectVerdict(await runPlugin(stages(store), message, envelope)).toTempfail();
    await sleep(350);
    expectVerdict(await runPlugin(stages(store), message, envelope))
      .toAccept()
      .toHaveSymbol('GREYLIST_PASS');
  });

  it('starts over when the retry comes after the window', async () => {
    const c = clock();
    const store = new MemoryGreylistStore({ now: c.now });
    const stages = () => [scoreOf(5), greylist({ store, now: c.now })];
    expectVerdict(await runPlugin(stages(), message, envelope)).toTempfail();
    c.advance(25 * 3_600_000);
    expectVerdict(await runPlugin(stages(), message, envelope))
      .toTempfail()
      .toHaveSymbol('GREYLIST_NEW');
  });

  it('never greylists mail under the greylist threshold, and leaves rejects and monitor mode alone', async () => {
    const store = new MemoryGreylistStore();
    const v3 = await runPlugin([scoreOf(3), greylist({ store })], message, envelope);
    expectVerdict(v3).toAccept().notToHaveSymbol('GREYLIST_NEW');
    const v20 = await runPlugin([scoreOf(20), greylist({ store })], message, envelope);
    expectVerdict(v20).toReject().notToHaveSymbol('GREYLIST_NEW');
    const monitored = await runPlugin([scoreOf(5), greylist({ store })], message, {
      ...envelope,
      engine: { monitor: true },
    });
    expectVerdict(monitored).toAccept().notToHaveSymbol('GREYLIST_NEW');
    expect(store.size).toBe(0);
  });

  it('greylists add-header mail by default, and only the greylist action when told so', async () => {
    const v7 = await runPlugin([scoreOf(7), greylist()], message, envelope);
    expectVerdict(v7).toTempfail().toHaveSymbol('GREYLIST_NEW');
    const only = await runPlugin([scoreOf(7), greylist({ actions: ['greylist'] })], message, envelope);
    expectVerdict(only).toAccept().toAddHeader('X-Spam', 'Yes');
  });

  it('keys the client by its /24 or /64, and the triplet by sender and recipient', async () => {
    const c = clock();
    const store = new MemoryGreylistStore({ now: c.now });
    const run = (env: Partial<typeof envelope>) =>
      runPlugin([scoreOf(5), greylist({ store, now: c.now })], message, { ...envelope, ...env });
    await run({});
    c.advance(301_000);
    // Another host of the same /24 retries: it passes.
    expectVerdict(await run({ clientAddress: '192.0.2.77' })).toAccept();
    // Another network, sender or recipient is a new triplet.
    expectVerdict(await run({ clientAddress: '198.51.100.10' })).toTempfail();
    expectVerdict(await run({ mailFrom: 'other@example.test' })).toTempfail();
    expectVerdict(await run({ recipients: ['rcpt@example.net', 'new@example.net'] })).toTempfail();
    expect(clientNetwork('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(clientNetwork('2001:db8::1')).toBe(clientNetwork('2001:db8::ffff:1'));
    expect(clientNetwork('::ffff:192.0.2.200')).toBe('192.0.2.0/24');
  });

  it('skips authenticated and outbound mail', async () => {
    const v = await runPlugin([scoreOf(5), greylist()], message, { ...envelope, user: 'alice' });
    expectVerdict(v).toAccept();
  });

  it('keeps at most maxEntries triplets, least recently used out first', async () => {
    const store = new MemoryGreylistStore({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await store.put(`k${i}`, { first: 1, passed: false }, 60_000);
    expect(store.size).toBe(3);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k9')).toEqual({ first: 1, passed: false });
  });

  it('validates its options when the factory runs', () => {
    expect(() => greylist({ delay: -1 })).toThrow(/delay/);
    expect(() => greylist({ delay: 1000, window: 500 })).toThrow(/window/);
    expect(() => greylist({ actions: ['reject' as 'greylist'] })).toThrow(/actions/);
  });

  it('without a greylist stage the greylist action never defers (mef scan, hosts without one)', async () => {
    const v = await runPlugin(scoreOf(5), message, envelope);
    expectVerdict(v).toAccept();
    expect(v.score.action).toBe('greylist');
  });
});

describe('greylist() with Redis', () => {
  const port = inject('redisPort');
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });
  const prefix = `mef:test:greylist:${process.pid}:${Date.now()}:`;

  it('lets a retry that reaches the other relay pass: two engines share one redis-server', async () => {
    const a = new Redis(port, '127.0.0.1');
    const b = new Redis(port, '127.0.0.1');
    clients.push(a, b);
    const relay1 = createEngine()
      .use(scoreOf(5))
      .use(greylist({ store: new RedisGreylistStore({ client: a, prefix }), delay: 300 }));
    const relay2 = createEngine()
      .use(scoreOf(5))
      .use(greylist({ store: new RedisGreylistStore({ client: b, prefix }), delay: 300 }));
    const first = await relay1.scan(message, envelope);
    expectVerdict(first).toTempfail().toHaveSymbol('GREYLIST_NEW');
    const tooSoon = await relay2.scan(message, envelope);
    expectVerdict(tooSoon).toTempfail().toHaveSymbol('GREYLIST_EARLY');
    await sleep(350);
    const retry = await relay2.scan(message, envelope);
    expectVerdict(retry).toAccept().toHaveSymbol('GREYLIST_PASS');
    expectVerdict(await relay1.scan(message, envelope))
      .toAccept()
      .toHaveSymbol('GREYLIST_PASS');
    // The record lives in Redis with a time to live.
    const keys = await a.keys(`${prefix}*`);
    expect(keys.length).toBe(1);
    expect(await a.pttl(keys[0] as string)).toBeGreaterThan(86_400_000);
    await relay1.stop();
    await relay2.stop();
  });

  it('connects by url, and a store that is down is an error finding under onError accept', async () => {
    const byUrl = greylist({ store: new RedisGreylistStore({ url: `redis://127.0.0.1:${port}`, prefix }) });
    expectVerdict(
      await runPlugin([scoreOf(5), byUrl], message, { ...envelope, recipients: ['u@example.net'] }),
    )
      .toTempfail()
      .toHaveSymbol('GREYLIST_NEW');
    const down = greylist({
      store: new RedisGreylistStore({ url: 'redis://127.0.0.1:1', prefix }),
      stageTimeout: 3_000,
    });
    const v = await runPlugin([scoreOf(5), down], message, envelope);
    expectVerdict(v).toAccept().toHaveError('MEF_SPAM_GREYLIST_STORE');
  });
});
