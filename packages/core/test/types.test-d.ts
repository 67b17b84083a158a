import { describe, expectTypeOf, test } from 'vitest';
import { createEngine, type Plugin, type TransactionState, type Verdict } from '../src/index.js';
import { buildMessage, streamSuite } from '../src/testing/index.js';

// Checked by vitest's type-check mode (and `tsc --build`): a wrong use must not compile, and an
// `@ts-expect-error` that no longer finds an error fails the run.
declare module '../src/index.js' {
  interface TransactionState {
    exampleRbl?: { listed: string[] };
  }
}

describe('public types', () => {
  test('a later stage reads an earlier stage’s typed state', () => {
    const reader: Plugin = {
      name: 'reader',
      message(ctx) {
        expectTypeOf(ctx.state.exampleRbl).toEqualTypeOf<{ listed: string[] } | undefined>();
      },
    };
    expectTypeOf(reader).toMatchTypeOf<Plugin>();
    expectTypeOf<TransactionState>().toHaveProperty('exampleRbl');
  });

  test('wrong uses do not compile', () => {
    // @ts-expect-error a plugin needs a name
    const nameless: Plugin = { message() {} };
    // @ts-expect-error onError is one of tempfail, accept, reject
    const badPolicy: Plugin = { name: 'x', onError: 'ignore' };
    // @ts-expect-error thresholds are numbers or null
    createEngine({ thresholds: { reject: '15' } });
    const v = {} as Verdict;
    // @ts-expect-error the verdict is read only
    v.disposition = 'accept';
    expectTypeOf([nameless, badPolicy]).toBeArray();
  });

  test('the scored hook sees the verdict', () => {
    const p: Plugin = {
      name: 'g',
      scored(ctx) {
        expectTypeOf(ctx.verdict).toEqualTypeOf<Verdict>();
      },
    };
    expectTypeOf(p.scored).not.toBeUndefined();
  });

  test('the stream suite needs what the stage must produce', () => {
    const api = { describe: () => {}, it: () => {} };
    const make = (): Plugin => ({ name: 'x' });
    // @ts-expect-error options with the message and the expectation are required
    streamSuite(api, 'x', make);
    // @ts-expect-error expect is required
    streamSuite(api, 'x', make, { message: buildMessage({}) });
    streamSuite(api, 'x', make, { message: buildMessage({}), expect: { symbols: ['X'] } });
  });
});
