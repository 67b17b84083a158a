import { describe, expect, it } from 'vitest';
import { bannedAttachments, clamav, parseScanReply } from '../src/index.js';

// The type-level checks are in types.test-d.ts; these are the same wrong uses at run time
// (from JavaScript, or through a cast): the factories refuse them with a TypeError.
describe('options refused at run time', () => {
  it('throws a TypeError for each wrong option type', () => {
    expect(() => clamav({ hosts: ['127.0.0.1:3310'], mode: 'all' as 'raw' })).toThrow(TypeError);
    expect(() => bannedAttachments({ action: 'drop' as 'reject' })).toThrow(TypeError);
    expect(() => bannedAttachments({ allow: { fileNames: ['*.exe'] as unknown as RegExp[] } })).toThrow(
      TypeError,
    );
    expect(() => clamav({ hosts: ['127.0.0.1:3310'], scores: { SPAM: 1 } as never })).toThrow(TypeError);
  });

  it('parses a FOUND reply', () => {
    const r = parseScanReply('stream: Eicar-Test-Signature FOUND');
    expect(r).toMatchObject({ kind: 'found', name: 'Eicar-Test-Signature', heuristic: false });
  });
});
