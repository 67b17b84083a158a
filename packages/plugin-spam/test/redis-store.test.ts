import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BayesClassifier } from '../src/bayes/classifier.js';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { RedisStore } from '../src/bayes/redis-store.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { features, goodHeaders } from './support/features.js';

const port = inject('redisPort');

describe('RedisStore against a real redis-server', () => {
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });
  let n = 0;
  const prefix = () => `test-${process.pid}-${Date.now()}-${n++}`;

  it('learns, counts a message twice once, moves a relearned message and forgets', async () => {
    const store = new RedisStore({ client: client(), prefix: prefix() });
    expect(await store.learn('d1', ['a', 'b', 'a'], 'spam')).toBe('learned');
    expect(await store.learn('d1', ['a', 'b'], 'spam')).toBe('duplicate');
    expect(await store.totals()).toEqual({ spam: 1, ham: 0 });
    expect(await store.counts(['a', 'b', 'c'])).toEqual([
      { spam: 1, ham: 0 },
      { spam: 1, ham: 0 },
      { spam: 0, ham: 0 },
    ]);
    expect(await store.learn('d1', ['a', 'b'], 'ham')).toBe('relearned');
    expect(await store.totals()).toEqual({ spam: 0, ham: 1 });
    expect(await store.counts(['a'])).toEqual([{ spam: 0, ham: 1 }]);
    expect(await store.forget('d1', ['a', 'b'])).toBe(true);
    expect(await store.forget('d1', ['a', 'b'])).toBe(false);
    expect(await store.totals()).toEqual({ spam: 0, ham: 0 });
  });

  it('lets two relays share one model, and agrees with the memory store', async () => {
    const p = prefix();
    const relayA = new BayesClassifier(new RedisStore({ client: client(), prefix: p }), { minLearns: 2 });
    const relayB = new BayesClassifier(new RedisStore({ client: client(), prefix: p }), { minLearns: 2 });
    const mem = new BayesClassifier(new MemoryStore(), { minLearns: 2 });
    const data: [string[], 'spam' | 'ham'][] = [
      [['cheap', 'pills', 'now', 'x1'], 'spam'],
      [['cheap', 'casino', 'bonus', 'x2'], 'spam'],
      [['meeting', 'agenda', 'notes', 'x3'], 'ham'],
      [['patch', 'review', 'agenda', 'x4'], 'ham'],
    ];
    // Half learned through each relay, concurrently, one duplicate through both.
    await Promise.all(data.map(([t, l], i) => (i % 2 ? relayA : relayB).learn(t, l)));
    await relayA.learn(data[0]?.[0] as string[], 'spam');
    for (const [t, l] of data) await mem.learn(t, l);
    expect(await relayB.store.totals()).toEqual({ spam: 2, ham: 2 });
    const probe = ['cheap', 'bonus', 'agenda'];
    const a = await relayA.classify(probe);
    const b = await relayB.classify(probe);
    const m = await mem.classify(probe);
    expect(a?.probability).toBe(b?.probability);
    expect(a?.probability).toBeCloseTo(m?.probability as number, 12);
  });

  it('dates tokens when learned and expires them by age, hapaxes sooner, in HSCAN batches', async () => {
    const DAY = 86_400_000;
    let now = Date.UTC(2026, 0, 1);
    const store = new RedisStore({ client: client(), prefix: prefix(), batch: 3, now: () => now });
    await store.learn('m1', ['old', 'shared', 'once'], 'spam');
    await store.learn('m2', ['shared', 'kept'], 'ham');
    now += 40 * DAY;
    await store.learn('m3', ['kept', 'fresh'], 'spam');
    now += 5 * DAY;
    // Nothing is older than 60 days; hapaxes older than 30 days go: 'old' and 'once'.
    expect(await store.expire({ maxAgeDays: 60, hapaxMaxAgeDays: 30 })).toBe(2);
    expect(await store.counts(['old', 'once', 'shared', 'kept', 'fresh'])).toEqual([
      { spam: 0, ham: 0 },
      { spam: 0, ham: 0 },
      { spam: 1, ham: 1 },
      { spam: 1, ham: 1 },
      { spam: 1, ham: 0 },
    ]);
    // Older than 30 days: 'shared' (day 0) goes; 'kept' was learned again on day 40.
    expect(await store.expire({ maxAgeDays: 30 })).toBe(1);
    expect(await store.counts(['shared', 'kept'])).toEqual([
      { spam: 0, ham: 0 },
      { spam: 1, ham: 1 },
    ]);
    expect(await store.totals()).toEqual({ spam: 2, ham: 1 });
    // Many tokens: the walk goes through every batch.
    await store.learn(
      'm4',
      Array.from({ length: 40 }, (_, i) => `bulk${i}`),
      'ham',
    );
    now += 100 * DAY;
    expect(await store.expire({ maxAgeDays: 10 })).toBe(42);
  });

  it('reads many tokens in batches', async () => {
    const store = new RedisStore({ client: client(), prefix: prefix(), batch: 7 });
    const tokens = Array.from({ length: 50 }, (_, i) => `t${i}`);
    await store.learn('big', tokens, 'ham');
    const c = await store.counts([...tokens, 'none']);
    expect(c.slice(0, 50).every((x) => x.ham === 1 && x.spam === 0)).toBe(true);
    expect(c[50]).toEqual({ spam: 0, ham: 0 });
  });

  it('connects by URL with its own ioredis client and closes it', async () => {
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, prefix: prefix() });
    expect(await store.learn('u1', ['z'], 'spam')).toBe('learned');
    await store.close();
  });

  it('backs the bayes() plugin', async () => {
    const p = bayes({ store: new RedisStore({ client: client(), prefix: prefix() }), minLearns: 1 });
    await p.train([
      { message: features(goodHeaders, { text: 'cheap pills casino' }), label: 'spam' },
      { message: features(goodHeaders, { text: 'agenda review notes' }), label: 'ham' },
    ]);
    const r = await p.check(features(goodHeaders, { text: 'cheap casino' }));
    expect(r.result?.probability).toBeGreaterThan(0.5);
    expect(await p.health?.()).toEqual({ ok: true, detail: 'learned 1 spam, 1 ham' });
  });
});

describe('RedisStore failures', () => {
  it('turns an unreachable Redis into MEF_SPAM_BAYES_STORE', async () => {
    const c = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    const store = new RedisStore({ client: c });
    await expect(store.totals()).rejects.toMatchObject({ code: 'MEF_SPAM_BAYES_STORE' });
    c.disconnect();
  });

  it('needs a client or a url', () => {
    expect(() => new RedisStore({})).toThrow(TypeError);
  });
});
