import type { Plugin } from '@mef/core';
import { describe, expectTypeOf, test } from 'vitest';
import { bannedAttachments, type ClamdReply, clamav } from '../src/index.js';

// Checked by vitest's type-check mode: a wrong use must not compile.
describe('public types', () => {
  test('factories return plugins and reject wrong option types', () => {
    expectTypeOf(clamav).returns.toMatchTypeOf<Plugin>();
    expectTypeOf(bannedAttachments).returns.toMatchTypeOf<Plugin>();
    // @ts-expect-error mode is 'raw' | 'parts' | 'both'
    clamav({ hosts: ['127.0.0.1:3310'], mode: 'all' });
    // @ts-expect-error action is 'reject' | 'quarantine' | 'tag'
    bannedAttachments({ action: 'drop' });
    // @ts-expect-error allow.fileNames takes RegExp, not strings
    bannedAttachments({ allow: { fileNames: ['*.exe'] } });
    // @ts-expect-error scores only name this plugin's symbols
    clamav({ hosts: ['127.0.0.1:3310'], scores: { SPAM: 1 } });
  });

  test('a clamd reply narrows by kind', () => {
    const r = {} as ClamdReply;
    if (r.kind === 'found') {
      expectTypeOf(r.name).toEqualTypeOf<string>();
      expectTypeOf(r.heuristic).toEqualTypeOf<boolean>();
    }
  });
});
