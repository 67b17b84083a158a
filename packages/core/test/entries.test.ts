import { describe, expect, it } from 'vitest';
import * as hosts from '../src/hosts/index.js';
import * as root from '../src/index.js';

// Plugin authors import from `@mef/core`, hosts from `@mef/core/hosts`: each name has one home.
describe('entry points', () => {
  it('keeps the engine and the verdict mappers out of the root entry', () => {
    const hostNames = Object.keys(hosts).sort();
    expect(hostNames).toEqual([
      'Engine',
      'ThreadPool',
      'createEngine',
      'defaultLimitPolicy',
      'defaultReply',
      'formatReply',
      'harakaCodes',
      'serveThread',
      'toHaraka',
      'toMilter',
      'toSmtpReply',
    ]);
    expect(Object.keys(root).filter((name) => hostNames.includes(name))).toEqual([]);
  });

  it('gives plugin authors the stage contract, findings, views, errors and helpers', () => {
    for (const name of ['definePlugin', 'MefError', 'HeaderBlock', 'decide', 'checkNumber']) {
      expect(Object.keys(root)).toContain(name);
    }
  });
});
