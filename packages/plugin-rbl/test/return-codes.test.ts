import { describe, expect, it } from 'vitest';
import { compileList, dnswl, ReturnCodeMap, spamhausDbl, spamhausZen, surblMulti } from '../src/index.js';

describe('return-code maps', () => {
  const zen = compileList(spamhausZen(), 0).map;

  it('maps exact codes and CIDRs to symbols', () => {
    expect(zen.interpret(['127.0.0.2']).hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_SBL']);
    expect(zen.interpret(['127.0.0.3']).hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_SBL_CSS']);
    for (const a of ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']) {
      expect(zen.interpret([a]).hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_XBL']);
    }
    expect(zen.interpret(['127.0.0.9']).hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_DROP']);
    expect(zen.interpret(['127.0.0.11']).hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_PBL']);
  });

  it('maps several answers to several symbols, once each', () => {
    const m = zen.interpret(['127.0.0.2', '127.0.0.4', '127.0.0.5', '127.0.0.10']);
    expect(m.hits.map((h) => h.rule.symbol)).toEqual(['RBL_ZEN_SBL', 'RBL_ZEN_XBL', 'RBL_ZEN_PBL']);
    expect(m.hits[1]?.answer).toBe('127.0.0.4');
  });

  it('reports unmapped answers as unmatched, not as hits', () => {
    const m = zen.interpret(['127.0.0.8']);
    expect(m.hits).toEqual([]);
    expect(m.unmatched).toEqual(['127.0.0.8']);
  });

  it('treats the Spamhaus error codes and answers outside 127/8 as errors, never listings', () => {
    for (const a of ['127.255.255.252', '127.255.255.254', '127.255.255.255', '10.0.0.1', '192.0.2.1']) {
      const m = zen.interpret([a]);
      expect(m.hits).toEqual([]);
      expect(m.errors).toEqual([a]);
    }
    // one error answer spoils the whole answer
    expect(zen.interpret(['127.0.0.2', '127.255.255.254']).hits).toEqual([]);
    const dbl = compileList(spamhausDbl(), 0).map;
    expect(dbl.interpret(['127.0.1.255']).errors).toEqual(['127.0.1.255']);
    expect(dbl.interpret(['127.0.1.4']).hits.map((h) => h.rule.symbol)).toEqual(['DBL_PHISH']);
  });

  it('tests bitmasks against the last octet (SURBL)', () => {
    const surbl = compileList(surblMulti(), 0).map;
    expect(surbl.interpret(['127.0.0.24']).hits.map((h) => h.rule.symbol)).toEqual(['SURBL_PH', 'SURBL_MW']);
    expect(surbl.interpret(['127.0.0.192']).hits.map((h) => h.rule.symbol)).toEqual([
      'SURBL_ABUSE',
      'SURBL_CR',
    ]);
    expect(surbl.interpret(['127.0.0.1']).errors).toEqual(['127.0.0.1']);
  });

  it('matches the exact last octet (DNSWL trust levels)', () => {
    const wl = compileList(dnswl(), 0).map;
    expect(wl.interpret(['127.0.10.3']).hits.map((h) => h.rule.symbol)).toEqual(['DNSWL_HI']);
    expect(wl.interpret(['127.0.15.1']).hits.map((h) => h.rule.symbol)).toEqual(['DNSWL_LOW']);
    expect(wl.interpret(['127.0.0.255']).errors).toEqual(['127.0.0.255']);
  });

  it('gives the generic zone one symbol with a default score for every 127/8 answer', () => {
    const g = compileList({ zone: 'bl.example.net', checks: ['client'] }, 0);
    expect(g.name).toBe('BL');
    const m = g.map.interpret(['127.0.0.2', '127.1.2.3']);
    expect(m.hits.map((h) => [h.rule.symbol, h.rule.score])).toEqual([['RBL_BL', 2]]);
    expect(g.map.interpret(['127.255.255.254']).hits).toEqual([]);
    const u = compileList({ zone: 'uribl.example.net', checks: ['uri'], defaultScore: 3 }, 0);
    expect(u.map.interpret(['127.0.0.2']).hits.map((h) => [h.rule.symbol, h.rule.score])).toEqual([
      ['URIBL_URIBL', 3],
    ]);
    const w = compileList({ zone: 'wl.example.net', checks: ['client'], allowlist: true }, 0);
    expect(w.map.interpret(['127.0.0.2']).hits.map((h) => [h.rule.symbol, h.rule.score])).toEqual([
      ['DNSWL_WL', -2],
    ]);
  });

  it('throws a TypeError that names the option and quotes the value', () => {
    expect(() => new ReturnCodeMap([{ code: '127.0.0.300', symbol: 'X', score: 1 }])).toThrow(
      /returnCodes\[0\]\.code.*"127\.0\.0\.300"/,
    );
    expect(() => new ReturnCodeMap([{ code: '127.0.0.2', mask: 2, symbol: 'X', score: 1 }])).toThrow(
      TypeError,
    );
    expect(() => new ReturnCodeMap([{ mask: 256, symbol: 'X', score: 1 }])).toThrow(/mask/);
    expect(() => new ReturnCodeMap([{ code: '127.0.0.2', symbol: 'lower', score: 1 }])).toThrow(
      /symbol.*"lower"/,
    );
    expect(() => new ReturnCodeMap([{ code: '127.0.0.2', symbol: 'X', score: Number.NaN }])).toThrow(/score/);
    expect(() => compileList({ zone: 'bad zone', checks: ['client'] })).toThrow(/lists\[0\]\.zone/);
    expect(() => compileList({ zone: 'a.test', checks: [] })).toThrow(/checks/);
    expect(() => compileList({ zone: 'a.test', checks: ['nope' as 'client'] })).toThrow(/"nope"/);
    expect(() =>
      compileList({ zone: 'a.test', checks: ['client'], allowlist: true, reject: 'connect' }),
    ).toThrow(/reject/);
    try {
      compileList({ zone: 'a.test', checks: ['client'], reject: 'later' as 'rcpt' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      expect((err as { code?: string }).code).toBe('MEF_CORE_INVALID_OPTION');
    }
  });
});
