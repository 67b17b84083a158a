import { describe, expect, inject, it } from 'vitest';
import {
  DnsListClient,
  genericList,
  RblChecker,
  type RblListConfig,
  spamhausDbl,
  spamhausZen,
  surblMulti,
} from '../src/index.js';

import { countingProxy } from './helpers/udp.js';

const port = inject('rbldnsdPort');

function checker(lists: RblListConfig[], options: { now?: () => number } = {}) {
  const client = new DnsListClient({ servers: [`127.0.0.1:${port}`], queryTimeout: 1000 });
  return new RblChecker(client, lists, options);
}

const zen = () => spamhausZen({ zone: 'zen.test', checks: ['client', 'uri-ip'] });
const dbl = () => spamhausDbl({ zone: 'dbl.test' });

describe('RblChecker against rbldnsd', () => {
  it('maps listed IPv4 addresses to ZEN symbols, several codes at once', async () => {
    const c = checker([zen()]);
    const cases: [string, string[]][] = [
      ['192.0.2.1', ['RBL_ZEN_SBL']],
      ['192.0.2.3', ['RBL_ZEN_SBL_CSS']],
      ['192.0.2.4', ['RBL_ZEN_XBL']],
      ['192.0.2.5', ['RBL_ZEN_SBL', 'RBL_ZEN_XBL']],
      ['192.0.2.9', ['RBL_ZEN_DROP']],
      ['192.0.2.10', ['RBL_ZEN_PBL']],
      ['192.0.2.77', []],
    ];
    for (const [ip, symbols] of cases) {
      const [o] = await c.check('client', ip);
      expect(o?.status, ip).toBe(symbols.length ? 'listed' : 'unlisted');
      expect(o?.hits.map((h) => h.symbol).sort(), ip).toEqual(symbols.sort());
    }
  });

  it('looks up IPv6 in reversed nibbles: prefixes and single addresses', async () => {
    const c = checker([zen()]);
    expect((await c.check('client', '2001:db8:bad::1'))[0]?.hits.map((h) => h.symbol)).toEqual([
      'RBL_ZEN_SBL',
    ]);
    expect((await c.check('client', '2001:db8:bad:0:ffff::2'))[0]?.status).toBe('listed');
    expect((await c.check('client', '2001:db8:1::5'))[0]?.hits.map((h) => h.symbol)).toEqual(['RBL_ZEN_XBL']);
    expect((await c.check('client', '2001:db8:1::6'))[0]?.status).toBe('unlisted');
    expect((await c.check('client', '2001:db8::1'))[0]?.status).toBe('unlisted');
    // IPv4-mapped IPv6 is looked up as IPv4
    expect((await c.check('client', '::ffff:192.0.2.4'))[0]?.hits.map((h) => h.symbol)).toEqual([
      'RBL_ZEN_XBL',
    ]);
  });

  it('fetches the TXT reason of a listing', async () => {
    const c = checker([zen()]);
    const [o] = await c.check('client', '192.0.2.4');
    expect(o?.txt).toBe('XBL exploited host 192.0.2.4');
  });

  it('lists domains and, for dot-entries, their subdomains', async () => {
    const c = checker([dbl()]);
    const status = async (d: string) => (await c.check('uri', d))[0]?.status;
    expect(await status('spammer.com')).toBe('listed');
    expect(await status('www.spammer.com')).toBe('unlisted'); // exact entry only
    expect(await status('spamfamily.net')).toBe('listed');
    expect(await status('a.b.spamfamily.net')).toBe('listed');
    expect(await status('clean.com')).toBe('unlisted');
    const [phish] = await c.check('from', 'phisher.co.uk');
    expect(phish?.hits.map((h) => [h.symbol, h.score])).toEqual([['DBL_PHISH', 6.5]]);
  });

  it('skips targets that are not addresses or host names', async () => {
    const c = checker([zen(), dbl()]);
    expect((await c.check('client', 'not-an-ip'))[0]?.status).toBe('skipped');
    expect((await c.check('helo', '[192.0.2.1]'))[0]?.status).toBe('skipped');
  });

  it('applies SURBL-style bitmasks', async () => {
    const c = checker([surblMulti({ zone: 'multi.test' })]);
    expect((await c.check('uri', 'bits.com'))[0]?.hits.map((h) => h.symbol)).toEqual([
      'SURBL_PH',
      'SURBL_MW',
    ]);
    expect((await c.check('uri', 'abusive.org'))[0]?.hits.map((h) => h.symbol)).toEqual(['SURBL_ABUSE']);
  });

  it('gives a generic zone one symbol with a default score for any 127/8 answer', async () => {
    const c = checker([genericList('generic.test', { defaultScore: 1.5 })]);
    expect((await c.check('client', '192.0.2.7'))[0]?.hits.map((h) => [h.symbol, h.score, h.answer])).toEqual(
      [['RBL_GENERIC', 1.5, '127.0.0.7']],
    );
    expect((await c.check('client', '192.0.2.8'))[0]?.hits.map((h) => h.answer)).toEqual(['127.0.0.200']);
  });

  it('treats error codes as errors and takes the list out of service for a while', async () => {
    let now = 1_000_000;
    const c = checker([genericList('err.test'), zen()], { now: () => now });
    const [err] = await c.check('client', '192.0.2.99');
    expect(err?.status).toBe('error');
    expect(err?.hits).toEqual([]);
    expect(err?.error?.code).toBe('MEF_RBL_LIST_ERROR');
    expect(err?.error?.message).toMatch(/127\.255\.255\.254/);
    // now out of service: even a listed entry is not looked up
    const [next, other] = await c.check('client', '127.0.0.2');
    expect(next?.status).toBe('out-of-service');
    expect(next?.error?.code).toBe('MEF_RBL_OUT_OF_SERVICE');
    expect(other?.status).toBe('listed'); // the other list goes on
    expect(c.health()[0]).toMatchObject({ zone: 'err.test', inService: false });
    now += 301_000;
    expect((await c.check('client', '127.0.0.2'))[0]?.status).toBe('listed');
    expect(c.health()[0]?.inService).toBe(true);
  });

  it('treats answers outside 127.0.0.0/8 and other error codes as errors', async () => {
    for (const ip of ['192.0.2.98', '192.0.2.97']) {
      const c = checker([genericList('err.test')]);
      const [o] = await c.check('client', ip);
      expect(o?.status, ip).toBe('error');
      expect(o?.error?.code).toBe('MEF_RBL_LIST_ERROR');
    }
  });

  it('probes lists: 127.0.0.2 listed and 127.0.0.1 not; test and invalid for domain lists', async () => {
    const c = checker([
      zen(),
      dbl(),
      genericList('dbl.test', { name: 'DOMAINS', checks: ['helo'] }),
      genericList('broken.test'),
      genericList('unknown-zone.test'),
    ]);
    const health = await c.probeAll();
    expect(health.map((h) => [h.zone, h.inService])).toEqual([
      ['zen.test', true],
      ['dbl.test', true],
      ['dbl.test', true],
      ['broken.test', false],
      ['unknown-zone.test', false],
    ]);
    expect(health[3]?.reason).toMatch(/1\.0\.0\.127\.broken\.test is listed/);
    expect(health[4]?.reason).toMatch(/probe failed/);
    expect(health[0]?.lastProbe?.ok).toBe(true);
    // a failed probe keeps the list out until a probe passes
    const outcomes = await c.check('client', '192.0.2.1');
    expect(outcomes.map((o) => [o.list.zone, o.status])).toEqual([
      ['zen.test', 'listed'],
      ['broken.test', 'out-of-service'],
      ['unknown-zone.test', 'out-of-service'],
    ]);
  });

  it('probes bypass the cache so that a dead list is noticed', async () => {
    const client = new DnsListClient({ servers: [`127.0.0.1:${port}`], queryTimeout: 300 });
    const c = new RblChecker(client, [zen()]);
    expect((await c.probe(c.lists[0]!)).ok).toBe(true);
    const queries = client.stats.queries;
    expect((await c.probe(c.lists[0]!)).ok).toBe(true);
    expect(client.stats.queries).toBe(queries + 2);
  });

  it('gives the TXT lookup only what is left of the timeout: a slow list costs one timeout', async () => {
    const slow = await countingProxy(port, { delay: 400 });
    try {
      const client = new DnsListClient({ servers: [`127.0.0.1:${slow.port}`], queryTimeout: 500, tries: 1 });
      const c = new RblChecker(client, [zen()]);
      const t0 = performance.now();
      const [o] = await c.check('client', '192.0.2.4');
      const took = performance.now() - t0;
      expect(o?.status).toBe('listed');
      expect(o?.hits.map((h) => h.symbol)).toEqual(['RBL_ZEN_XBL']);
      expect(o?.txt).toBeUndefined();
      // one timeout (500 ms); a full TXT wait would make it 800
      expect(took).toBeLessThan(720);
      expect(slow.names).toEqual(['4.2.0.192.zen.test', '4.2.0.192.zen.test']); // A, then TXT
      client.cancel();
    } finally {
      await slow.close();
    }
  });
});
