import type { Plugin } from '@mef/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type RblCache, type RblListConfig, rbl, spamhausZen } from '../src/index.js';

// These lines are checked by `tsc --build`: a wrong use must not compile.
describe('public types', () => {
  it('rbl() needs servers and lists, and returns a Plugin', () => {
    expectTypeOf(rbl).returns.toEqualTypeOf<Plugin>();
    // @ts-expect-error servers is required
    const noServers = () => rbl({ lists: [spamhausZen()] });
    // @ts-expect-error lists is required
    const noLists = () => rbl({ servers: ['127.0.0.1'] });
    expect(noServers).toThrow(TypeError);
    expect(noLists).toThrow(TypeError);
  });

  it('list configs only take known checks and reject phases', () => {
    // @ts-expect-error an unknown check
    const badCheck: RblListConfig = { zone: 'a.test', checks: ['ip'] };
    // @ts-expect-error reject is false, 'connect' or 'rcpt'
    const badReject: RblListConfig = { zone: 'a.test', checks: ['client'], reject: true };
    expect(badCheck.zone).toBe('a.test');
    expect(badReject.zone).toBe('a.test');
  });

  it('a shared cache may be synchronous or asynchronous', () => {
    const sync: RblCache = { get: () => undefined, set: () => {} };
    const async: RblCache = { get: async () => ({ records: ['127.0.0.2'] }), set: async () => {} };
    expect(typeof sync.get).toBe('function');
    expect(typeof async.set).toBe('function');
  });
});
