import { Connection, type Transaction } from '@mef/core/hosts';
import { describe, expectTypeOf, test } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { Plugin, StageError, TransactionState, Verdict } from '../src/index.js';
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

  test('hosts read connections and transactions through read-only views', () => {
    const conn = {} as Connection;
    const tx = {} as Transaction;
    // @ts-expect-error findings are read through a view
    conn.findings.symbols.push({ name: 'X', score: 1, stage: 'host' });
    // @ts-expect-error the HELO name is set by helo()
    conn.heloName = 'mx.example.test';
    // @ts-expect-error skipped stages are recorded by stages, not by hosts
    tx.skipped.set('spam', 'because');
    // @ts-expect-error MAIL FROM is set by mailFrom()
    tx.mailFromAddress = { address: 'a@example.test', params: {} };
    // @ts-expect-error the engine's internals are not part of its type
    conn.runPhase;
    // @ts-expect-error hosts open connections with engine.connection()
    new Connection();
    expectTypeOf(tx.findings.errors).toEqualTypeOf<readonly StageError[]>();
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
