import type { Plugin } from '@mef/core';
import { describe, expectTypeOf, test } from 'vitest';
import { type RblCache, type RblListConfig, rbl, spamhausZen } from '../src/index.js';

// Checked by vitest's type-check mode: a wrong use must not compile.
describe('public types', () => {
  test('rbl() needs servers and lists, and returns a Plugin', () => {
    expectTypeOf(rbl).returns.toEqualTypeOf<Plugin>();
    // @ts-expect-error servers is required
    rbl({ lists: [spamhausZen()] });
    // @ts-expect-error lists is required
    rbl({ servers: ['127.0.0.1'] });
  });

  test('list configs only take known checks and reject phases', () => {
    // @ts-expect-error an unknown check
    const badCheck: RblListConfig = { zone: 'a.test', checks: ['ip'] };
    // @ts-expect-error reject is false, 'connect' or 'rcpt'
    const badReject: RblListConfig = { zone: 'a.test', checks: ['client'], reject: true };
    expectTypeOf([badCheck, badReject]).toBeArray();
  });

  test('a shared cache may be synchronous or asynchronous', () => {
    const sync: RblCache = { get: () => undefined, set: () => {} };
    const async: RblCache = { get: async () => ({ records: ['127.0.0.2'] }), set: async () => {} };
    expectTypeOf([sync, async]).toEqualTypeOf<RblCache[]>();
  });
});
