import { describe, expect, it } from 'vitest';
import { arcSymbol, authSymbols, dkimFindings, dmarcSymbol, spfSymbol } from '../src/index.js';

describe('symbol mapping', () => {
  it('maps every SPF result', () => {
    const m = (result: string) => spfSymbol({ result });
    expect(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'].map(m)).toEqual([
      'R_SPF_ALLOW',
      'R_SPF_FAIL',
      'R_SPF_SOFTFAIL',
      'R_SPF_NEUTRAL',
      'R_SPF_NA',
      'R_SPF_DNSFAIL',
      'R_SPF_PERMFAIL',
    ]);
  });

  it('groups DKIM signatures by outcome and says NA when there is none', () => {
    expect(dkimFindings([])).toEqual([{ symbol: 'R_DKIM_NA', options: [] }]);
    expect(dkimFindings([{ status: { result: 'none' } }])).toEqual([{ symbol: 'R_DKIM_NA', options: [] }]);
    expect(
      dkimFindings([
        { status: { result: 'pass' }, signingDomain: 'a.test' },
        { status: { result: 'fail' }, signingDomain: 'b.test' },
        { status: { result: 'neutral', comment: 'body hash did not verify' }, signingDomain: 'c.test' },
        { status: { result: 'neutral', comment: 'no key' }, signingDomain: 'd.test' },
        { status: { result: 'temperror' }, signingDomain: 'e.test' },
      ]),
    ).toEqual([
      { symbol: 'R_DKIM_ALLOW', options: ['a.test:pass'] },
      { symbol: 'R_DKIM_REJECT', options: ['b.test:fail', 'c.test:neutral'] },
      { symbol: 'R_DKIM_PERMFAIL', options: ['d.test:neutral'] },
      { symbol: 'R_DKIM_TEMPFAIL', options: ['e.test:temperror'] },
    ]);
  });

  it('takes the published policy for a DMARC failure', () => {
    const fail = (policy: string) => dmarcSymbol({ status: { result: 'fail' }, policy });
    expect([fail('reject'), fail('quarantine'), fail('none')]).toEqual([
      'DMARC_POLICY_REJECT',
      'DMARC_POLICY_QUARANTINE',
      'DMARC_POLICY_SOFTFAIL',
    ]);
    expect(dmarcSymbol(false)).toBe('DMARC_NA');
    expect(dmarcSymbol({ status: { result: 'pass' }, policy: 'reject' })).toBe('DMARC_POLICY_ALLOW');
    expect(dmarcSymbol({ status: { result: 'temperror' } })).toBe('DMARC_DNSFAIL');
    expect(dmarcSymbol({ status: { result: 'permerror' } })).toBe('DMARC_BAD_POLICY');
  });

  it('maps ARC results', () => {
    expect([undefined, { result: 'none' }, { result: 'pass' }, { result: 'fail' }].map(arcSymbol)).toEqual([
      'ARC_NA',
      'ARC_NA',
      'ARC_ALLOW',
      'ARC_REJECT',
    ]);
  });

  it('scores like rspamd policies_group.conf', () => {
    expect(authSymbols.R_SPF_ALLOW).toBe(-0.2);
    expect(authSymbols.DMARC_POLICY_REJECT).toBe(2);
    expect(authSymbols.ARC_ALLOW).toBe(-1);
  });
});
