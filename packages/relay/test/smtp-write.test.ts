import { describe, expect, it } from 'vitest';
import { dotStuff } from '../src/index.js';

/** The DATA form of a whole message at once: bare LF and CRLF both become CRLF, leading dots doubled. */
function reference(message: string): string {
  return message.replace(/\r?\n/g, '\r\n').replace(/(^|\r\n)\./g, '$1..');
}

/** Feeds the message in the given chunk sizes (cycled) and joins what comes out. */
function stuffed(message: string, sizes: number[]): string {
  const buf = Buffer.from(message, 'latin1');
  const state = { atLineStart: true, lastCR: false };
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < buf.length; k++) {
    const end = Math.min(buf.length, at + (sizes[k % sizes.length] as number));
    for (const piece of dotStuff(buf.subarray(at, end), state)) out.push(piece);
    at = end;
  }
  return Buffer.concat(out).toString('latin1');
}

describe('dotStuff', () => {
  const messages = [
    'Subject: a\r\n\r\nbody\r\n',
    '.leading dot\r\n..two\r\nmid.dot\r\n.\r\n',
    'bare\nline\nfeeds\n.dot after LF\n',
    'mixed\r\nends\nhere\r\n\r\n.\n\r\r\nlast without break',
    '\r\n.\r\n.\n',
    '',
  ];
  it('matches the whole-message conversion however the message is cut', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (const m of messages) {
      expect(stuffed(m, [m.length || 1])).toBe(reference(m));
      expect(stuffed(m, [1])).toBe(reference(m));
      for (let round = 0; round < 50; round++) {
        const sizes = Array.from({ length: 5 }, () => 1 + (random() % 7));
        expect(stuffed(m, sizes)).toBe(reference(m));
      }
    }
  });

  it('passes a message with CRLF lines and no leading dot on as one piece', () => {
    const chunk = Buffer.from('a\r\nb\r\nc\r\n');
    expect([...dotStuff(chunk, { atLineStart: true, lastCR: false })]).toHaveLength(1);
  });
});
