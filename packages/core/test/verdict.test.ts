import { describe, expect, it } from 'vitest';
import { formatReply, harakaCodes, toHaraka, toMilter, toSmtpReply } from '../src/hosts/index.js';
import { decide, defaultThresholds, type SymbolHit, scoreAction } from '../src/index.js';

const sym = (name: string, score: number): SymbolHit => ({ name, score, stage: 't' });
const none = { symbols: [], forced: [], errors: [], mutations: [] };

describe('decide', () => {
  it('accepts an empty set of findings with the default thresholds', () => {
    const v = decide(none);
    expect(v.disposition).toBe('accept');
    expect(v.score).toEqual({ value: 0, thresholds: defaultThresholds, action: 'no_action' });
    expect(v.reply).toBeNull();
    expect(v.spam).toBe(false);
  });

  it('maps scores to actions at the default thresholds 4, 6 and 15', () => {
    expect(scoreAction(3.99, defaultThresholds)).toBe('no_action');
    expect(scoreAction(4, defaultThresholds)).toBe('greylist');
    expect(scoreAction(6, defaultThresholds)).toBe('add_header');
    expect(scoreAction(15, defaultThresholds)).toBe('reject');
    expect(scoreAction(100, { reject: null, addHeader: null, greylist: null })).toBe('no_action');
  });

  it('rejects at the reject threshold with a 554 5.7.1 reply', () => {
    const v = decide({ ...none, symbols: [sym('A', 10), sym('B', 5)] });
    expect(v.disposition).toBe('reject');
    expect(v.reply?.code).toBe(554);
    expect(v.reply?.enhanced).toBe('5.7.1');
    expect(v.spam).toBe(true);
    expect(v.mutations).toEqual([]);
  });

  it('adds X-Spam at the add-header threshold and accepts', () => {
    const v = decide({ ...none, symbols: [sym('A', 7)] });
    expect(v.disposition).toBe('accept');
    expect(v.spam).toBe(true);
    expect(v.mutations).toContainEqual({ op: 'add', name: 'X-Spam', value: 'Yes', stage: 'engine' });
  });

  it('marks the greylist action on accepted mail: only a greylist stage defers', () => {
    const v = decide({ ...none, symbols: [sym('A', 4.5)] });
    expect(v.disposition).toBe('accept');
    expect(v.reply).toBeNull();
    expect(v.score.action).toBe('greylist');
    expect(v.mutations).toEqual([]);
  });

  it('lets the most severe disposition win: reject over tempfail over quarantine over discard', () => {
    const v = decide({
      ...none,
      forced: [
        { stage: 'a', disposition: 'quarantine', scope: 'transaction' },
        {
          stage: 'b',
          disposition: 'reject',
          scope: 'transaction',
          reply: { code: 554, enhanced: '5.7.1', lines: ['virus'] },
        },
        { stage: 'c', disposition: 'discard', scope: 'transaction' },
      ],
    });
    expect(v.disposition).toBe('reject');
    expect(v.reply?.lines).toEqual(['virus']);
    const q = decide({
      ...none,
      forced: [
        { stage: 'a', disposition: 'quarantine', scope: 'transaction' },
        { stage: 'c', disposition: 'discard', scope: 'transaction' },
      ],
    });
    expect(q.disposition).toBe('quarantine');
  });

  it('follows a configured severity order', () => {
    const v = decide({
      ...none,
      severity: ['quarantine', 'reject', 'tempfail', 'discard', 'accept'],
      forced: [
        { stage: 'a', disposition: 'quarantine', scope: 'transaction' },
        { stage: 'b', disposition: 'reject', scope: 'transaction' },
      ],
    });
    expect(v.disposition).toBe('quarantine');
  });

  it('turns a failure under tempfail policy into a 451 and under accept into a trace only', () => {
    const err = { stage: 'clamav', kind: 'unavailable' as const, code: 'X', message: 'down' };
    const t = decide({ ...none, errors: [{ ...err, policy: 'tempfail', disposition: 'tempfail' }] });
    expect(t.disposition).toBe('tempfail');
    expect(t.reply?.code).toBe(451);
    const a = decide({ ...none, errors: [{ ...err, policy: 'accept', disposition: 'accept' }] });
    expect(a.disposition).toBe('accept');
    expect(a.errors).toHaveLength(1);
  });

  it('monitor mode turns a reject into accept with a tag and remembers what it would have been', () => {
    const v = decide({ ...none, monitor: true, symbols: [sym('A', 20)] });
    expect(v.disposition).toBe('accept');
    expect(v.wouldBe).toBe('reject');
    expect(v.monitor).toBe(true);
    expect(v.mutations.map((m) => ('name' in m ? m.name : ''))).toEqual(['X-MEF-Monitor', 'X-Spam']);
  });

  it('monitor mode keeps the tempfail of a failing scanner so mail is never passed unscanned', () => {
    const v = decide({
      ...none,
      monitor: true,
      errors: [
        {
          stage: 'clamav',
          kind: 'timeout',
          code: 'MEF_CORE_TIMEOUT',
          message: 't',
          policy: 'tempfail',
          disposition: 'tempfail',
        },
      ],
    });
    expect(v.disposition).toBe('tempfail');
  });

  it('keeps the recipient for a recipient-scoped reject', () => {
    const v = decide({
      ...none,
      forced: [{ stage: 'a', disposition: 'reject', scope: 'recipient', recipient: 'x@y' }],
    });
    expect(v.scope).toBe('recipient');
    expect(v.recipient).toBe('x@y');
  });
});

describe('mappings', () => {
  const reject = decide({
    ...none,
    forced: [
      {
        stage: 'av',
        disposition: 'reject',
        scope: 'transaction',
        reply: { code: 554, enhanced: '5.7.1', lines: ['Virus found: Eicar', 'Contact postmaster'] },
      },
    ],
  });

  it('maps a verdict to an SMTP reply and formats multi-line replies', () => {
    expect(toSmtpReply(reject)).toEqual({
      code: 554,
      enhanced: '5.7.1',
      lines: ['Virus found: Eicar', 'Contact postmaster'],
    });
    expect(formatReply(toSmtpReply(reject))).toBe(
      '554-5.7.1 Virus found: Eicar\r\n554 5.7.1 Contact postmaster',
    );
    expect(toSmtpReply(decide(none))).toEqual({ code: 250, enhanced: '2.0.0', lines: ['OK'] });
  });

  it('fixes a reply whose class contradicts the disposition', () => {
    const v = decide({
      ...none,
      forced: [
        {
          stage: 'x',
          disposition: 'tempfail',
          scope: 'transaction',
          reply: { code: 550, enhanced: '5.1.1', lines: ['no'] },
        },
      ],
    });
    expect(toSmtpReply(v)).toEqual({ code: 451, enhanced: '4.7.1', lines: ['no'] });
  });

  it('maps to Haraka return codes', () => {
    expect(toHaraka(reject)).toMatchObject({
      name: 'DENY',
      code: harakaCodes.DENY,
      msg: '5.7.1 Virus found: Eicar Contact postmaster',
    });
    expect(toHaraka(decide(none))).toMatchObject({ name: 'CONT', code: 900 });
    const temp = decide({
      ...none,
      forced: [{ stage: 'x', disposition: 'tempfail', scope: 'transaction', disconnect: true }],
    });
    expect(toHaraka(temp)).toMatchObject({ name: 'DENYSOFTDISCONNECT', code: 909 });
    const q = decide({ ...none, forced: [{ stage: 'x', disposition: 'quarantine', scope: 'transaction' }] });
    expect(toHaraka(q)).toMatchObject({ name: 'CONT', quarantine: true });
  });

  it('maps to milter actions with header changes before the final answer', () => {
    const v = decide({
      ...none,
      symbols: [sym('A', 7)],
      mutations: [
        { op: 'add', name: 'X-Virus-Scanned', value: 'MEF', stage: 'av' },
        { op: 'remove', name: 'X-Old', stage: 'x' },
        { op: 'subject', prefix: '[SPAM]', stage: 'spam' },
      ],
    });
    expect(toMilter(v, 'Hello')).toEqual([
      { cmd: 'h', name: 'addheader', header: 'X-Virus-Scanned', value: 'MEF' },
      { cmd: 'm', name: 'chgheader', index: 1, header: 'X-Old', value: '' },
      { cmd: 'm', name: 'chgheader', index: 1, header: 'Subject', value: '[SPAM] Hello' },
      { cmd: 'h', name: 'addheader', header: 'X-Spam', value: 'Yes' },
      { cmd: 'c', name: 'continue' },
    ]);
    expect(toMilter(reject)).toEqual([
      { cmd: 'y', name: 'replycode', text: '554-5.7.1 Virus found: Eicar\r\n554 5.7.1 Contact postmaster' },
    ]);
    const d = decide({ ...none, forced: [{ stage: 'x', disposition: 'discard', scope: 'transaction' }] });
    expect(toMilter(d)).toEqual([{ cmd: 'd', name: 'discard' }]);
    const t = decide({ ...none, forced: [{ stage: 'x', disposition: 'tempfail', scope: 'transaction' }] });
    expect(toMilter(t)).toEqual([{ cmd: 't', name: 'tempfail' }]);
  });
});
