import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../src/index.js';
import { buildMessage, expectVerdict, runPlugin } from '../src/testing/index.js';

const reader = (): Plugin => ({
  name: 'reader',
  message(ctx) {
    ctx.message.parts({}, async (p) => {
      for await (const _ of p.content);
    });
    return ctx.message.text().then(() => undefined);
  },
});

function nested(depth: number): Buffer {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let i = depth; i > 0; i--) {
    body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  }
  return Buffer.from(`From: a@x\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`);
}

function manyParts(n: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`--m\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`);
  return Buffer.from(
    `From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n${parts.join('')}--m--\r\n`,
  );
}

describe('limits', () => {
  it('rejects a message over maxMessageBytes with 552 5.3.4 and MEF_LIMIT_SIZE, reading the rest', async () => {
    const msg = buildMessage({ attachments: [{ filename: 'x.bin', content: Buffer.alloc(200_000) }] });
    let consumed = false;
    const src = Readable.from([msg.subarray(0, 100_000), msg.subarray(100_000)]);
    src.on('end', () => {
      consumed = true;
    });
    const v = await runPlugin(reader(), () => src, { engine: { limits: { maxMessageBytes: 100_000 } } });
    expectVerdict(v).toReject().toHaveSymbol('MEF_LIMIT_SIZE').toHaveReply(552, '5.3.4');
    expect(consumed).toBe(true);
  });

  it('makes the size disposition configurable', async () => {
    const msg = buildMessage({ text: 'x'.repeat(5000) });
    const v = await runPlugin(reader(), msg, {
      engine: { limits: { maxMessageBytes: 1000 }, limitPolicy: { size: 'tempfail' } },
    });
    expectVerdict(v).toTempfail().toHaveSymbol('MEF_LIMIT_SIZE');
  });

  it('stops at maxHeaderBytes with MEF_LIMIT_HEADER', async () => {
    const msg = Buffer.from(`From: a@x\r\nX-Long: ${'a'.repeat(300_000)}\r\n\r\nbody\r\n`);
    const v = await runPlugin(reader(), msg);
    expectVerdict(v).toReject().toHaveSymbol('MEF_LIMIT_HEADER');
  });

  it('stops offering parts past maxDepth with MEF_LIMIT_DEPTH', async () => {
    const v = await runPlugin(reader(), nested(40), { engine: { limits: { maxDepth: 10 } } });
    expectVerdict(v).toReject().toHaveSymbol('MEF_LIMIT_DEPTH').toHaveReply(554, '5.6.0');
  });

  it('stops offering parts past maxParts with MEF_LIMIT_PARTS', async () => {
    const v = await runPlugin(reader(), manyParts(50), { engine: { limits: { maxParts: 20 } } });
    expectVerdict(v).toReject().toHaveSymbol('MEF_LIMIT_PARTS');
  });

  it('bounds extracted text with MEF_LIMIT_TEXT and still accepts', async () => {
    let len = 0;
    let truncated = false;
    const v = await runPlugin(
      {
        name: 'text',
        async message(ctx) {
          const t = await ctx.message.text();
          len = Buffer.byteLength(t.text);
          truncated = t.truncated;
        },
      },
      buildMessage({ text: 'word '.repeat(10_000) }),
      { engine: { limits: { maxTextBytes: 1000 } } },
    );
    expectVerdict(v).toAccept().toHaveSymbol('MEF_LIMIT_TEXT');
    expect(truncated).toBe(true);
    expect(len).toBeLessThanOrEqual(1000);
  });
});
