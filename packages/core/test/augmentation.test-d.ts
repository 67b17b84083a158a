import type { Plugin, TransactionContext, TransactionState } from '@mef/core';
import { describe, expectTypeOf, test } from 'vitest';

// A plugin extends the shared state the way its README says: by augmenting the package, not a
// file inside it. `TransactionState` is declared in context.ts and re-exported by the entry; the
// augmentation still reaches the stage context, so the entry needs no declaration of its own.
declare module '@mef/core' {
  interface TransactionState {
    augmentedByName?: { listed: readonly string[] };
  }
}

describe('TransactionState augmentation through @mef/core', () => {
  test('the stage context and the transaction context see the added field', () => {
    const reader: Plugin = {
      name: 'reader',
      helo(ctx) {
        expectTypeOf(ctx.state.augmentedByName).toEqualTypeOf<{ listed: readonly string[] } | undefined>();
      },
    };
    expectTypeOf(reader).toMatchTypeOf<Plugin>();
    expectTypeOf<TransactionContext['state']>().toEqualTypeOf<TransactionState>();
    expectTypeOf<TransactionState>().toHaveProperty('augmentedByName');
  });

  test('a field of the wrong type does not compile', () => {
    const state: TransactionState = {};
    // @ts-expect-error listed is an array of strings
    state.augmentedByName = { listed: 'one' };
    expectTypeOf(state).not.toBeAny();
  });
});
