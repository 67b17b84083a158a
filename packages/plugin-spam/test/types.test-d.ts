import type { Plugin } from '@mef/core';
import { describe, expectTypeOf, test } from 'vitest';
import { bayes, defineRule, greylist, rspamd, spamassassin, spamRules } from '../src/index.js';

// Checked by vitest's type-check mode: a wrong use must not compile.
describe('public types', () => {
  test('wrong option types do not compile', () => {
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
    // @ts-expect-error greylisting only acts on the greylist and add-header actions
    greylist({ actions: ['reject'] });
    expectTypeOf(greylist).returns.toEqualTypeOf<Plugin>();
  });
});
