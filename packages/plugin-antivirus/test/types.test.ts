import type { Plugin } from '@mef/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { bannedAttachments, type ClamdReply, clamav, parseScanReply } from '../src/index.js';

// These lines are checked by `tsc` (the package's tsconfig includes test/): a wrong use must not compile.
describe('public types', () => {
  it('factories return plugins and reject wrong option types at compile time', () => {
    expectTypeOf(clamav).returns.toMatchTypeOf<Plugin>();
    expectTypeOf(bannedAttachments).returns.toMatchTypeOf<Plugin>();
    expect(() =>
      // @ts-expect-error mode is 'raw' | 'parts' | 'both'
      clamav({ hosts: ['127.0.0.1:3310'], mode: 'all' }),
    ).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error action is 'reject' | 'quarantine' | 'tag'
      bannedAttachments({ action: 'drop' }),
    ).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error allow.fileNames takes RegExp, not strings
      bannedAttachments({ allow: { fileNames: ['*.exe'] } }),
    ).toThrow(TypeError);
    expect(() =>
      // @ts-expect-error scores only name this plugin's symbols
      clamav({ hosts: ['127.0.0.1:3310'], scores: { SPAM: 1 } }),
    ).toThrow(TypeError);
  });

  it('narrows a clamd reply by kind', () => {
    const r: ClamdReply = parseScanReply('stream: Eicar-Test-Signature FOUND');
    if (r.kind === 'found') {
      expectTypeOf(r.name).toEqualTypeOf<string>();
      expectTypeOf(r.heuristic).toEqualTypeOf<boolean>();
      expect(r.name).toBe('Eicar-Test-Signature');
    } else {
      expect.unreachable('a FOUND reply');
    }
  });
});
