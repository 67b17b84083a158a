import { describe, expect, expectTypeOf, it } from 'vitest';
import { createEngine, type Plugin, type TransactionState, type Verdict } from '../src/index.js';
import { runPlugin } from '../src/testing/index.js';

// Stages extend the shared state by declaration merging; later stages read it with types.
declare module '../src/index.js' {
  interface TransactionState {
    exampleRbl?: { listed: string[] };
  }
}

describe('public types', () => {
  it('lets a later stage read an earlier stage’s typed state', async () => {
    const writer: Plugin = {
      name: 'writer',
      connect(ctx) {
        ctx.state.exampleRbl = { listed: ['zen.example'] };
      },
    };
    let seen: string[] | undefined;
    const reader: Plugin = {
      name: 'reader',
      dependencies: ['writer'],
      message(ctx) {
        expectTypeOf(ctx.state.exampleRbl).toEqualTypeOf<{ listed: string[] } | undefined>();
        seen = ctx.state.exampleRbl?.listed;
      },
    };
    await runPlugin([writer, reader], 'From: a@x\r\n\r\nhi\r\n');
    expect(seen).toEqual(['zen.example']);
    expectTypeOf<TransactionState>().toHaveProperty('exampleRbl');
  });

  it('rejects wrong uses at compile time', () => {
    const typeOnly = () => {
      // @ts-expect-error a plugin needs a name
      const nameless: Plugin = { message() {} };
      // @ts-expect-error onError is one of tempfail, accept, reject
      const badPolicy: Plugin = { name: 'x', onError: 'ignore' };
      // @ts-expect-error thresholds are numbers or null
      createEngine({ thresholds: { reject: '15' } });
      const v = {} as Verdict;
      // @ts-expect-error the verdict is read only
      v.disposition = 'accept';
      return [nameless, badPolicy];
    };
    expect(typeof typeOnly).toBe('function');
  });
});
