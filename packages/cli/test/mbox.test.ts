import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inputs, sniff } from '../src/input.js';
import { MboxSplitter } from '../src/mbox.js';
import { runOrdered } from '../src/scan.js';

async function text(s: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts).toString('latin1');
}

/** Splits `mbox` fed in chunks of `size` bytes; returns each message's text. */
async function split(mbox: string, size = 1 << 20): Promise<string[]> {
  const buf = Buffer.from(mbox, 'latin1');
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  const splitter = new MboxSplitter(Readable.from(chunks));
  const out: string[] = [];
  for (;;) {
    const m = await splitter.next();
    if (!m) return out;
    out.push(await text(m));
  }
}

const MBOX = [
  'From alice@example.com Thu Nov 26 10:00:00 2026',
  'Subject: one',
  '',
  'first body',
  '>From here on, quoted',
  '>>From twice quoted',
  '> From not a quote',
  '',
  'From bob@example.com Thu Nov 26 10:01:00 2026',
  'Subject: two',
  '',
  'second body',
  'From inside a paragraph is no separator',
  '',
  'From carol@example.com Thu Nov 26 10:02:00 2026',
  'Subject: three',
  '',
  'third',
  '',
].join('\n');

describe('MboxSplitter', () => {
  it('splits at From lines after a blank line and unquotes >From as mboxrd does', async () => {
    const msgs = await split(MBOX);
    expect(msgs).toEqual([
      'Subject: one\n\nfirst body\nFrom here on, quoted\n>From twice quoted\n> From not a quote\n',
      'Subject: two\n\nsecond body\nFrom inside a paragraph is no separator\n',
      'Subject: three\n\nthird\n',
    ]);
  });

  it('gives the same messages when fed one byte at a time', async () => {
    expect(await split(MBOX, 1)).toEqual(await split(MBOX));
  });

  it('keeps CRLF line endings and blank lines inside a message', async () => {
    const mbox =
      'From a Thu\r\nSubject: x\r\n\r\nline\r\n\r\n\r\nafter two blanks\r\n\r\nFrom b Thu\r\nSubject: y\r\n\r\nz\r\n';
    expect(await split(mbox, 3)).toEqual([
      'Subject: x\r\n\r\nline\r\n\r\n\r\nafter two blanks\r\n',
      'Subject: y\r\n\r\nz\r\n',
    ]);
  });

  it('passes a line longer than its buffer through in pieces, unchanged', async () => {
    const long = 'x'.repeat(300_000);
    const msgs = await split(`From a Thu\nSubject: long\n\n${long}\nend\n`, 7000);
    expect(msgs).toEqual([`Subject: long\n\n${long}\nend\n`]);
  });

  it('waits for the reader: the next message is asked only after the current one is read', async () => {
    const body = 'y'.repeat(1000);
    const many = Array.from({ length: 50 }, (_, i) => `From s${i} Thu\nSubject: ${i}\n\n${body}\n`).join(
      '\n',
    );
    const splitter = new MboxSplitter(Readable.from([Buffer.from(many)]));
    let n = 0;
    for (;;) {
      const m = await splitter.next();
      if (!m) break;
      expect(await text(m)).toBe(`Subject: ${n}\n\n${body}\n`);
      n++;
    }
    expect(n).toBe(50);
  });

  it('skips the rest of a message whose reader stopped early', async () => {
    const splitter = new MboxSplitter(Readable.from([Buffer.from(MBOX)]));
    const first = await splitter.next();
    first?.destroy();
    const second = await splitter.next();
    expect(await text(second as Readable)).toContain('Subject: two');
  });
});

describe('sniff', () => {
  it('tells messages, mboxes and binary data apart; text without a header is a message', () => {
    expect(sniff(Buffer.from('Received: from x\r\n'))).toBe('message');
    expect(sniff(Buffer.from('From a@b Thu Nov 26\n'))).toBe('mbox');
    expect(sniff(Buffer.from([0x4d, 0x5a, 0, 0, 1]))).toMatch(/binary/);
    expect(sniff(Buffer.from('hello world\n'))).toBe('message');
    expect(sniff(Buffer.alloc(0))).toMatch(/empty/);
  });
});

describe('inputs', () => {
  it('reads an mbox from a stream as -#N', async () => {
    const stdin = Readable.from([Buffer.from(MBOX)]);
    const sources: string[] = [];
    for await (const item of inputs(['-'], { stdin })) {
      sources.push(item.source);
      if (item.stream) await text(item.stream);
    }
    expect(sources).toEqual(['-#1', '-#2', '-#3']);
  });
});

describe('runOrdered', () => {
  it('emits in input order while running up to the bound at once', async () => {
    let running = 0;
    let peak = 0;
    const delays = [50, 5, 30, 1, 20, 2, 40, 3, 10, 4];
    async function* items() {
      yield* delays.map((d, i) => ({ d, i }));
    }
    const out: number[] = [];
    await runOrdered(
      items(),
      4,
      async ({ d, i }) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, d));
        running--;
        return i;
      },
      (i) => out.push(i),
    );
    expect(out).toEqual(delays.map((_, i) => i));
    expect(peak).toBe(4);
  });
});
