import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DnsListClient, MemoryCache, type RblCache, RblError } from '../src/index.js';
import { type CountingProxy, countingProxy, type SilentServer, silentServer } from './helpers/udp.js';

const port = inject('rbldnsdPort');
const server = `127.0.0.1:${port}`;

describe('DnsListClient options', () => {
  it('throws a TypeError when no servers are configured: never the system resolver', () => {
    for (const servers of [undefined, [], null]) {
      try {
        new DnsListClient({ servers: servers as unknown as string[] });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError);
        expect((err as { code?: string }).code).toBe('MEF_CORE_INVALID_OPTION');
        expect(String(err)).toMatch(/servers/);
      }
    }
  });

  it('refuses host names and bad ports, quoting the value', () => {
    expect(() => new DnsListClient({ servers: ['dns.example.com'] })).toThrow(
      /servers\[0\].*"dns\.example\.com"/,
    );
    expect(() => new DnsListClient({ servers: ['127.0.0.1:99999'] })).toThrow(TypeError);
    expect(() => new DnsListClient({ servers: ['127.0.0.1'], queryTimeout: 0 })).toThrow(/queryTimeout/);
    expect(() => new DnsListClient({ servers: ['127.0.0.1'], concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => new DnsListClient({ servers: ['127.0.0.1'], cache: {} as RblCache })).toThrow(/cache/);
    expect(new DnsListClient({ servers: ['127.0.0.1', '[::1]:5353', '::1'] }).servers).toEqual([
      '127.0.0.1:53',
      '[::1]:5353',
      '[::1]:53',
    ]);
  });
});

describe('DnsListClient against rbldnsd', () => {
  let proxy: CountingProxy;
  beforeAll(async () => {
    proxy = await countingProxy(port);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('answers a listed IPv4 with its code and an unlisted one with nothing', async () => {
    const c = new DnsListClient({ servers: [server], cache: false });
    expect((await c.lookupA('2.0.0.127.zen.test')).records).toEqual(['127.0.0.2']);
    expect([...(await c.lookupA('5.2.0.192.zen.test')).records].sort()).toEqual(['127.0.0.2', '127.0.0.4']);
    expect((await c.lookupA('1.0.0.127.zen.test')).records).toEqual([]);
  });

  it('reads TXT reasons with the address substituted', async () => {
    const c = new DnsListClient({ servers: [server] });
    expect((await c.lookupTxt('4.2.0.192.zen.test')).records).toEqual(['XBL exploited host 192.0.2.4']);
  });

  it('answers a repeated lookup from the cache without a query, negative answers too', async () => {
    const c = new DnsListClient({ servers: [`127.0.0.1:${proxy.port}`] });
    proxy.reset();
    const first = await c.lookupA('1.2.0.192.zen.test');
    const neg = await c.lookupA('77.2.0.192.zen.test');
    expect(first).toEqual({ records: ['127.0.0.2'], cached: false });
    expect(neg).toEqual({ records: [], cached: false });
    expect(proxy.count).toBe(2);
    expect(await c.lookupA('1.2.0.192.zen.test')).toEqual({ records: ['127.0.0.2'], cached: true });
    expect(await c.lookupA('77.2.0.192.ZEN.test')).toEqual({ records: [], cached: true });
    expect(proxy.count).toBe(2);
    expect(c.stats).toMatchObject({ queries: 2, cacheHits: 2 });
  });

  it('keeps answers for their TTL, and negative answers for the SOA minimum', async () => {
    let now = 1_000_000;
    const c = new DnsListClient({
      servers: [`127.0.0.1:${proxy.port}`],
      cache: new MemoryCache({ now: () => now }),
      negativeTtl: 600,
    });
    expect(await c.learnNegativeTtl('zen.test')).toBe(45);
    proxy.reset();
    await c.lookupA('1.2.0.192.zen.test', 'zen.test'); // $TTL 120
    await c.lookupA('88.2.0.192.zen.test', 'zen.test'); // NXDOMAIN, SOA minimum 45
    expect(proxy.count).toBe(2);
    now += 44_000;
    await c.lookupA('1.2.0.192.zen.test', 'zen.test');
    await c.lookupA('88.2.0.192.zen.test', 'zen.test');
    expect(proxy.count).toBe(2);
    now += 2_000; // 46 s: the negative entry expired, the positive one has not
    await c.lookupA('1.2.0.192.zen.test', 'zen.test');
    await c.lookupA('88.2.0.192.zen.test', 'zen.test');
    expect(proxy.names.slice(2)).toEqual(['88.2.0.192.zen.test']);
    now += 80_000; // 126 s: the positive entry expired too
    await c.lookupA('1.2.0.192.zen.test', 'zen.test');
    expect(proxy.names.slice(3)).toEqual(['1.2.0.192.zen.test']);
  });

  it('uses the configured negative TTL when the zone has no SOA', async () => {
    const sets: [string, number][] = [];
    const map = new Map<string, { records: readonly string[] }>();
    const shared: RblCache = {
      async get(key) {
        return map.get(key);
      },
      async set(key, value, ttl) {
        sets.push([key, ttl]);
        map.set(key, value);
      },
    };
    const c = new DnsListClient({ servers: [server], cache: shared, negativeTtl: 77 });
    expect(await c.learnNegativeTtl('dbl.test')).toBeUndefined();
    await c.lookupA('nobody.com.dbl.test', 'dbl.test');
    await c.lookupA('spammer.com.dbl.test', 'dbl.test');
    expect(sets).toEqual([
      ['A:nobody.com.dbl.test', 77],
      ['A:spammer.com.dbl.test', 120],
    ]);
    // a shared cache answers the next lookup
    expect(await c.lookupA('spammer.com.dbl.test', 'dbl.test')).toEqual({
      records: ['127.0.1.2'],
      cached: true,
    });
  });

  it('sends one query for identical lookups in flight', async () => {
    const c = new DnsListClient({ servers: [`127.0.0.1:${proxy.port}`], cache: false });
    proxy.reset();
    const all = await Promise.all(Array.from({ length: 20 }, () => c.lookupA('9.2.0.192.zen.test')));
    expect(all.every((a) => a.records[0] === '127.0.0.9')).toBe(true);
    expect(proxy.count).toBe(1);
  });

  it('bounds the queries in flight: 1,000 lookups at once all get their answers', async () => {
    const c = new DnsListClient({
      servers: [`127.0.0.1:${proxy.port}`],
      concurrency: 16,
      cache: false,
      queryTimeout: 3000,
    });
    proxy.reset();
    const names = Array.from({ length: 1000 }, (_, i) => `${i % 250}.${Math.floor(i / 250)}.51.198.zen.test`);
    const answers = await Promise.all(names.map((n) => c.lookupA(n)));
    expect(answers.length).toBe(1000);
    expect(answers.filter((a) => a.records.length === 0).length).toBe(1000);
    expect(proxy.count).toBe(1000);
    expect(proxy.maxInFlight).toBeLessThanOrEqual(16);
    expect(c.stats.timeouts).toBe(0);
  });
});

describe('DnsListClient resends', () => {
  it('sends again at half the timeout when a datagram is lost, and gets the answer in time', async () => {
    const lossy = await countingProxy(port, { drop: 1 });
    try {
      const c = new DnsListClient({ servers: [`127.0.0.1:${lossy.port}`], queryTimeout: 600, cache: false });
      const t0 = performance.now();
      expect((await c.lookupA('4.2.0.192.zen.test')).records).toEqual(['127.0.0.4']);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(600);
      expect(lossy.names).toEqual(['4.2.0.192.zen.test', '4.2.0.192.zen.test']);
      // with one send, the lost datagram costs the lookup
      lossy.reset();
      const lossy2 = await countingProxy(port, { drop: 1 });
      const once = new DnsListClient({
        servers: [`127.0.0.1:${lossy2.port}`],
        queryTimeout: 300,
        tries: 1,
        cache: false,
      });
      const err = await once.lookupA('4.2.0.192.zen.test').catch((e: unknown) => e);
      expect((err as RblError).code).toBe('MEF_RBL_TIMEOUT');
      await lossy2.close();
      c.cancel();
      once.cancel();
    } finally {
      await lossy.close();
    }
  });

  it('takes a late answer to the first send after it has sent again', async () => {
    const slow = await countingProxy(port, { delay: 400 });
    try {
      const c = new DnsListClient({ servers: [`127.0.0.1:${slow.port}`], queryTimeout: 700, cache: false });
      const t0 = performance.now();
      expect((await c.lookupA('4.2.0.192.zen.test')).records).toEqual(['127.0.0.4']);
      expect(performance.now() - t0).toBeLessThan(700);
      expect(slow.count).toBe(2); // sent again at 350 ms; the answer to the first came at 400
      c.cancel();
    } finally {
      await slow.close();
    }
  });
});

describe('DnsListClient against a silent server', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(async () => {
    await silent.close();
  });

  it('gives up after the configured timeout with MEF_RBL_TIMEOUT', async () => {
    const c = new DnsListClient({ servers: [`127.0.0.1:${silent.port}`], queryTimeout: 300 });
    const t0 = performance.now();
    const err = await c.lookupA('2.0.0.127.zen.test').catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(RblError);
    expect((err as RblError).code).toBe('MEF_RBL_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(250);
    // the bound proves the deadline (c-ares alone would wait seconds); slack for loaded CI machines
    expect(took).toBeLessThan(800);
    expect(silent.received).toBeGreaterThan(0);
    c.cancel();
  });

  it('bounds the wait of queued lookups too (queueing counts in the timeout)', async () => {
    const c = new DnsListClient({ servers: [`127.0.0.1:${silent.port}`], queryTimeout: 300, concurrency: 2 });
    const t0 = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => c.lookupA(`${i}.0.0.127.zen.test`)),
    );
    // queued lookups waiting their turn would take 5 x 300 ms
    expect(performance.now() - t0).toBeLessThan(900);
    expect(
      results.every((r) => r.status === 'rejected' && (r.reason as RblError).code === 'MEF_RBL_TIMEOUT'),
    ).toBe(true);
    c.cancel();
  });

  it('fails within the timeout on a closed UDP port', async () => {
    const closed = await silentServer();
    const deadPort = closed.port;
    await closed.close();
    const c = new DnsListClient({ servers: [`127.0.0.1:${deadPort}`], queryTimeout: 300 });
    const t0 = performance.now();
    const err = await c.lookupA('2.0.0.127.zen.test').catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(800);
    expect(err).toBeInstanceOf(RblError);
    expect(['MEF_RBL_TIMEOUT', 'MEF_RBL_UNAVAILABLE']).toContain((err as RblError).code);
    c.cancel();
  });
});
