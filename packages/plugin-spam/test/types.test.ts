import { describe, expect, it } from 'vitest';
import { bayes, defineRule, rspamd, spamassassin, spamRules } from '../src/index.js';

// These lines are checked by `tsc`: a wrong use must not compile.
describe('public types', () => {
  it('reject wrong option types at compile time', () => {
    const wrong = () => {
      // @ts-expect-error scores are numbers
      spamRules({ scores: { GTUBE: 'high' } });
      // @ts-expect-error command is one of REPORT, SYMBOLS, CHECK
      spamassassin({ command: 'PROCESS' });
      // @ts-expect-error onError is a failure policy
      rspamd({ onError: 'ignore' });
      // @ts-expect-error thresholds are numbers
      bayes({ spamThreshold: '0.9' });
      // @ts-expect-error a rule's area is one of the known ones
      defineRule({ name: 'X', score: 1, area: 'everywhere', description: 'x', test: () => true });
    };
    expect(wrong).toThrow(TypeError);
  });

  it('train() learns raw messages through the engine without an extractor', async () => {
    const b = bayes({ minLearns: 1 });
    const r = await b.train<string | Buffer>([
      { message: 'Subject: cheap pills\r\n\r\ncheap pills casino\r\n', label: 'spam' as const },
      { message: Buffer.from('Subject: agenda\r\n\r\nmeeting agenda notes\r\n'), label: 'ham' as const },
    ]);
    expect(r).toMatchObject({ done: 2, learned: 2, failed: 0 });
  });
});
