import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Plugin, TransactionState } from '../src/index.js';
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
});
