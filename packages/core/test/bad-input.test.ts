import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin, Verdict } from '../src/index.js';
import { buildMessage, runPlugin } from '../src/testing/index.js';
import { corpusFiles } from './helpers.js';

// Every view at once: the hardest case for the pass.
const everything = (): Plugin => ({
  name: 'everything',
  message(ctx) {
    const raw = ctx.message.raw();
    ctx.message.parts({}, async (p) => {
      for await (const _ of p.content);
    });
    const text = ctx.message.text();
    const headers = ctx.message.headers();
    return (async () => {
      for await (const _ of raw);
      await Promise.all([text, headers]);
      ctx.findings.symbol('SEEN', 0);
    })();
  },
});

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

async function verdictWithin(msg: Buffer | (() => Readable), ms = 20_000): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const v = await Promise.race([
    runPlugin(everything(), msg),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no verdict within ${ms} ms`)), ms);
    }),
  ]);
  clearTimeout(timer);
  expect(['accept', 'reject', 'tempfail']).toContain(v.disposition);
  return v;
}

function nested(depth: number): Buffer {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let i = depth; i > 0; i--) {
    body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  }
  return Buffer.from(`From: a@x\r\nMIME-Version: 1.0\r\n${body}`);
}

function nestedMessages(depth: number): Buffer {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let i = 0; i < depth; i++) body = `Content-Type: message/rfc822\r\n\r\nSubject: level ${i}\r\n${body}`;
  return Buffer.from(`From: a@x\r\nMIME-Version: 1.0\r\n${body}`);
}

describe('bad input always gets a verdict', () => {
  const base = buildMessage({
    text: 'hello',
    attachments: [{ filename: 'a.bin', content: Buffer.alloc(3000, 5) }],
  });

  it('a truncated message', async () => {
    await verdictWithin(base.subarray(0, Math.floor(base.length / 2)));
    await verdictWithin(base.subarray(0, 10));
  });

  it('binary garbage and NUL bytes', async () => {
    const garbage = Buffer.alloc(200_000);
    let s = 7;
    for (let i = 0; i < garbage.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      garbage[i] = s >>> 24;
    }
    await verdictWithin(garbage);
    await verdictWithin(Buffer.alloc(100_000, 0));
    await verdictWithin(
      Buffer.concat([Buffer.from('From: a@x\r\nSubject: \0\0\0\r\n\r\n'), Buffer.alloc(1000, 0)]),
    );
  });

  it('an empty message', async () => {
    await verdictWithin(Buffer.alloc(0));
  });

  it('a 1 MB header line', async () => {
    const v = await verdictWithin(
      Buffer.from(`From: a@x\r\nX-Huge: ${'x'.repeat(1024 * 1024)}\r\n\r\nbody\r\n`),
    );
    expect(v.symbols.map((s) => s.name)).toContain('MEF_LIMIT_HEADER');
  });

  it('a 1 MB body line', async () => {
    await verdictWithin(Buffer.from(`From: a@x\r\n\r\n${'y'.repeat(1024 * 1024)}\r\n`));
  });

  it('bare LF and bare CR line ends', async () => {
    const lf = Buffer.from(base.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const cr = Buffer.from(base.toString('latin1').replace(/\r\n/g, '\r'), 'latin1');
    const vLf = await verdictWithin(lf);
    expect(vLf.symbols.map((s) => s.name)).toContain('SEEN');
    await verdictWithin(cr);
  });

  it('10,000 parts', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 10_000; i++) parts.push(`--m\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`);
    const msg = Buffer.from(
      `From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n${parts.join('')}--m--\r\n`,
    );
    const v = await verdictWithin(msg);
    expect(v.symbols.map((s) => s.name)).toContain('MEF_LIMIT_PARTS');
  });

  it('100 levels of multipart nesting and 100 nested messages', async () => {
    const v = await verdictWithin(nested(100));
    expect(v.symbols.map((s) => s.name)).toContain('MEF_LIMIT_DEPTH');
    await verdictWithin(nestedMessages(100));
  });

  it('a boundary that never closes and a part header that never ends', async () => {
    await verdictWithin(
      Buffer.from(
        'From: a@x\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nno end',
      ),
    );
    await verdictWithin(
      Buffer.from(
        `From: a@x\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nX: ${'h'.repeat(400_000)}`,
      ),
    );
  });

  it('broken base64 and quoted-printable', async () => {
    const b64 = buildMessage({ attachments: [{ filename: 'x', content: 'ok' }] })
      .toString()
      .replace('b2s=', '!!!@@@#\u0000#');
    expect(b64).toContain('!!!@@@');
    await verdictWithin(Buffer.from(b64));
    const qp = buildMessage({ text: 'caf\u00e9 =' }).toString().replace('caf=C3=A9', 'caf=ZZ=C3=\r\n=');
    await verdictWithin(Buffer.from(qp));
  });

  it.each(corpusFiles())('every corpus message: $name', async ({ path }) => {
    await verdictWithin(readFileSync(path));
  });
});

describe('fuzz', () => {
  const seeds = corpusFiles()
    .map((f) => readFileSync(f.path))
    .filter((b) => b.length < 64 * 1024)
    .slice(0, 40);

  it('mutated real messages always get a verdict (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(
          fc.record({
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            op: fc.constantFrom('delete', 'insert', 'flip', 'truncate', 'dupe'),
            bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 4096 }),
        async (seed, edits, chunk) => {
          let b = Buffer.from(seed);
          for (const e of edits) {
            const i = Math.floor(e.at * b.length);
            if (e.op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + e.bytes.length)]);
            else if (e.op === 'insert')
              b = Buffer.concat([b.subarray(0, i), Buffer.from(e.bytes), b.subarray(i)]);
            else if (e.op === 'flip' && b.length) {
              const k = Math.min(i, b.length - 1);
              b[k] = (b[k] ?? 0) ^ (e.bytes[0] ?? 1);
            } else if (e.op === 'truncate') b = b.subarray(0, i);
            else b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + 200), b.subarray(i)]);
          }
          const msg = b;
          const v = await verdictWithin(
            () =>
              Readable.from(
                (function* () {
                  for (let i = 0; i < msg.length; i += chunk) yield msg.subarray(i, i + chunk);
                })(),
              ),
            20_000,
          );
          return ['accept', 'reject', 'tempfail'].includes(v.disposition);
        },
      ),
      { numRuns: 150, seed: 20261128 },
    );
  }, 120_000);
});
