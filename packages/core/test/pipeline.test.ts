// Just over 400 lines: the one-pass pipeline's views (headers, parts, raw, text) and
// backpressure, tested together because they share one pass.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { MimePart, Plugin } from '../src/index.js';
import { buildMessage, expectVerdict, runPlugin } from '../src/testing/index.js';
import { corpusFiles } from './helpers.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const attachment = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
const message = buildMessage({
  subject: '=?UTF-8?B?w4R0dGVudGlvbg==?=',
  text: 'Plain body with a link http://example.test/a',
  html: '<p>HTML <b>body</b> <a href="http://example.test/b">here</a></p>',
  attachments: [
    { filename: 'data.bin', content: attachment },
    {
      filename: 'notes.txt',
      contentType: 'text/plain',
      content: 'attached text',
      encoding: 'quoted-printable',
    },
    { filename: 'pic.png', contentType: 'image/png', content: Buffer.alloc(300, 1) },
  ],
});

describe('message views', () => {
  it('offers decoded parts by selector, with metadata', async () => {
    const seen: { type: string; filename?: string; sha: string; bytes: number; id: string }[] = [];
    const v = await runPlugin(
      {
        name: 'parts',
        message(ctx) {
          ctx.message.parts({ attachment: true }, async (part: MimePart) => {
            const body = await collect(part.content);
            seen.push({
              type: part.contentType,
              ...(part.filename ? { filename: part.filename } : {}),
              sha: createHash('sha1').update(body).digest('hex'),
              bytes: part.bytes,
              id: part.partId,
            });
          });
        },
      },
      message,
    );
    expectVerdict(v).toAccept().toHaveNoErrors();
    expect(seen.map((s) => s.filename)).toEqual(['data.bin', 'notes.txt', 'pic.png']);
    expect(seen[0]!.sha).toBe(createHash('sha1').update(attachment).digest('hex'));
    expect(seen[0]!.bytes).toBe(5000);
    expect(seen[2]!.type).toBe('image/png');
    expect(new Set(seen.map((s) => s.id)).size).toBe(3);
  });

  it('selects by content type wildcard, RegExp and filename, and cuts at maxBytes', async () => {
    const got: Record<string, string[]> = { image: [], re: [], name: [], capped: [] };
    await runPlugin(
      {
        name: 'sel',
        message(ctx) {
          const take = (key: string) => async (p: MimePart) => {
            const b = await collect(p.content);
            got[key]!.push(`${p.contentType}:${b.length}:${p.truncated}`);
          };
          ctx.message.parts({ contentType: 'image/*' }, take('image'));
          ctx.message.parts({ contentType: /^text\/html$/ }, take('re'));
          ctx.message.parts({ filename: /\.txt$/ }, take('name'));
          ctx.message.parts({ filename: /\.bin$/, maxBytes: 100 }, take('capped'));
        },
      },
      message,
    );
    expect(got).toEqual({
      image: ['image/png:300:false'],
      re: [
        'text/html:' +
          Buffer.byteLength('<p>HTML <b>body</b> <a href="http://example.test/b">here</a></p>') +
          ':false',
      ],
      name: ['text/plain:13:false'],
      capped: ['application/octet-stream:100:true'],
    });
  });

  it('gives the raw bytes exactly as received', async () => {
    let raw: Buffer | undefined;
    await runPlugin(
      {
        name: 'raw',
        message: async (ctx) => {
          const r = ctx.message.raw();
          raw = await collect(r);
        },
      },
      message,
    );
    expect(raw?.equals(message)).toBe(true);
  });

  it('gives the header block and bounded extracted text', async () => {
    let subject: string | undefined;
    let text = '';
    let html = '';
    await runPlugin(
      {
        name: 'text',
        async message(ctx) {
          const t = ctx.message.text();
          const h = await ctx.message.headers();
          subject = h.getDecoded('subject');
          const r = await t;
          text = r.text;
          html = r.html;
        },
      },
      message,
    );
    expect(subject).toBe('Ättention');
    expect(text).toContain('Plain body with a link http://example.test/a');
    expect(text).toContain('HTML body');
    expect(text).not.toContain('attached text');
    expect(html).toContain('<b>body</b>');
  });

  it('refuses a view asked for after the first await with MEF_CORE_VIEW_LATE', async () => {
    const v = await runPlugin(
      {
        name: 'late',
        onError: 'accept',
        async message(ctx) {
          await ctx.message.headers();
          ctx.message.raw();
        },
      },
      message,
    );
    expectVerdict(v).toAccept().toHaveError('MEF_CORE_VIEW_LATE');
  });

  it('never decodes a part that no stage asked for', async () => {
    // A part with broken base64 would show decoding work; here we count decoder output instead:
    // a stage that only wants text/plain sees one part, and the attachment is not offered.
    const offered: string[] = [];
    await runPlugin(
      {
        name: 't',
        message: (ctx) =>
          ctx.message.parts({ contentType: 'text/plain', attachment: false }, async (p) => {
            offered.push(p.contentType);
            p.skip();
          }),
      },
      message,
    );
    expect(offered).toEqual(['text/plain']);
  });
});

describe('backpressure', () => {
  it('a slow stage slows the pass: the engine reads the source only as fast as the stage reads', async () => {
    const big = buildMessage({
      attachments: [{ filename: 'big.bin', content: Buffer.alloc(4 * 1024 * 1024, 3) }],
    });
    let pulled = 0;
    let maxAhead = 0;
    let consumed = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < big.length; i += 16 * 1024) {
          pulled += Math.min(16 * 1024, big.length - i);
          maxAhead = Math.max(maxAhead, pulled - consumed);
          yield big.subarray(i, i + 16 * 1024);
        }
      })(),
      { objectMode: false, highWaterMark: 16 * 1024 },
    );
    const v = await runPlugin(
      {
        name: 'slow-raw',
        message: async (ctx) => {
          for await (const c of ctx.message.raw()) {
            consumed += (c as Buffer).length;
            await sleep(0);
          }
        },
      },
      () => source,
    );
    expectVerdict(v).toAccept();
    expect(consumed).toBe(big.length);
    // The distance between what was read and what the stage consumed stays bounded by buffers, not the message.
    expect(maxAhead).toBeLessThan(512 * 1024);
  });

  it('takes a stage that blocks the pass longer than its timeout out of the pass', async () => {
    const other: number[] = [];
    const v = await runPlugin(
      [
        {
          name: 'blocker',
          stageTimeout: 100,
          onError: 'accept',
          message: (ctx) => {
            ctx.message.raw();
          },
        },
        {
          name: 'reader',
          message: async (ctx) => {
            let n = 0;
            for await (const c of ctx.message.raw()) n += (c as Buffer).length;
            other.push(n);
          },
        },
      ],
      buildMessage({ attachments: [{ filename: 'x.bin', content: Buffer.alloc(2 * 1024 * 1024) }] }),
    );
    expectVerdict(v).toAccept().toHaveError('MEF_CORE_TIMEOUT');
    expect(v.errors[0]?.stage).toBe('blocker');
    expect(other[0]).toBeGreaterThan(2 * 1024 * 1024);
  });
});

describe('output', () => {
  const files = corpusFiles();

  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(60);
  });

  it.each(files)('is byte-identical to the input when nothing is mutated: $name', async ({ path }) => {
    const input = readFileSync(path);
    const engine = createEngine().use({
      name: 'all-views',
      message(ctx) {
        ctx.message.parts({}, async (p) => void (await collect(p.content)));
        const t = ctx.message.text();
        return t.then(() => undefined);
      },
    });
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    const tx = conn.transaction();
    await tx.mailFrom('a@x');
    await tx.rcptTo('b@y');
    const v = await tx.data(Readable.from([input]), { keep: true });
    expect(v.mutations).toEqual([]);
    const out = await collect(tx.output());
    expect(out.equals(input)).toBe(true);
    await tx.dispose();
    await engine.stop();
  });

  it('applies header mutations in order and keeps every other byte', async () => {
    const input = Buffer.from('From: a@x\r\nSubject: Hi\r\nX-Old: 1\r\nX-Old: 2\r\n\r\nBody line\r\n');
    const engine = createEngine({ store: { memoryLimit: 10 } }).use({
      name: 'mut',
      message(ctx) {
        ctx.findings.addHeader('X-Virus-Scanned', 'MEF');
        ctx.findings.prependHeader('Received', 'from relay by mef');
        ctx.findings.removeHeader('X-Old', 2);
        ctx.findings.setHeader('X-Old', 'one');
        ctx.findings.prefixSubject('[SPAM]');
      },
    });
    await engine.start();
    const tx = engine.connection({ clientAddress: '192.0.2.1' }).transaction();
    await tx.mailFrom('a@x');
    await tx.data(input, { keep: true });
    const out = (await collect(tx.output())).toString();
    expect(out).toBe(
      'Received: from relay by mef\r\nFrom: a@x\r\nSubject: [SPAM] Hi\r\nX-Old: one\r\nX-Virus-Scanned: MEF\r\n\r\nBody line\r\n',
    );
    await tx.dispose();
    await engine.stop();
  });

  it('spills a large kept message to a temporary file and removes it on dispose', async () => {
    const input = buildMessage({
      attachments: [{ filename: 'x.bin', content: Buffer.alloc(3 * 1024 * 1024, 9) }],
    });
    const engine = createEngine({ store: { memoryLimit: 64 * 1024 } }).use({ name: 'noop' });
    await engine.start();
    const tx = engine.connection({ clientAddress: '192.0.2.1' }).transaction();
    await tx.mailFrom('a@x');
    await tx.data(Readable.from([input]), { keep: true });
    const out = await collect(tx.output());
    expect(out.equals(input)).toBe(true);
    await tx.dispose();
    expect(() => tx.output()).toThrow();
    await engine.stop();
  });

  it('refuses output() when the message was not kept, with MEF_CORE_OUTPUT_UNAVAILABLE', async () => {
    const engine = createEngine();
    await engine.start();
    const tx = engine.connection({ clientAddress: '192.0.2.1' }).transaction();
    await tx.mailFrom('a@x');
    await tx.data(message);
    expect(() => tx.output()).toThrow(expect.objectContaining({ code: 'MEF_CORE_OUTPUT_UNAVAILABLE' }));
    await engine.stop();
  });
});

describe('hosts', () => {
  const plugin = (): Plugin => ({
    name: 'bin-counter',
    message(ctx) {
      ctx.message.parts({ filename: /\.bin$/ }, async (p) => {
        const b = await collect(p.content);
        ctx.findings.symbol('BIN_BYTES', 0, { options: [String(b.length)] });
      });
    },
  });

  it('serves a push-fed host (milter shape: header fields one by one, body in 64 KB chunks)', async () => {
    const engine = createEngine().use(plugin());
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1', clientPort: 4000 });
    await conn.connect();
    await conn.helo('mx.example.test');
    const tx = conn.transaction();
    await tx.mailFrom('a@x', { size: '1000' });
    await tx.rcptTo('b@y');
    const text = message.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    const fields = text
      .slice(0, split + 2)
      .split(/\r\n(?=[^ \t])/)
      .filter(Boolean);
    for (const f of fields) await tx.write(Buffer.from(`${f.replace(/\r\n$/, '')}\r\n`, 'latin1'));
    await tx.write(Buffer.from('\r\n'));
    const body = message.subarray(split + 4);
    for (let i = 0; i < body.length; i += 65535) await tx.write(body.subarray(i, i + 65535));
    const v = await tx.end();
    expectVerdict(v).toAccept().toHaveSymbolOption('BIN_BYTES', '5000');
    await conn.close();
    await engine.stop();
  });

  it('serves a stream-fed host (Haraka message_stream shape)', async () => {
    const engine = createEngine().use(plugin());
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    const tx = conn.transaction();
    await tx.mailFrom('a@x');
    await tx.rcptTo('b@y');
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < message.length; i += 1000) yield message.subarray(i, i + 1000);
      })(),
    );
    const v = await tx.data(stream);
    expectVerdict(v).toHaveSymbolOption('BIN_BYTES', '5000');
    await conn.close();
    await engine.stop();
  });
});

describe('forwarded messages', () => {
  const inner = 'From: x@y\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\ninner body text\r\n';
  const wrap = (disposition: string) =>
    Buffer.from(
      `From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="f"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nsee the forward\r\n--f\r\nContent-Type: message/rfc822\r\n${disposition}\r\n${inner}--f--\r\n`,
    );

  it('offers a forwarded message attached as a file as one message/rfc822 part, and its parts', async () => {
    const seen: string[] = [];
    await runPlugin(
      {
        name: 'p',
        message: (ctx) =>
          ctx.message.parts({}, async (p) => {
            seen.push(
              `${p.contentType}:${(await collect(p.content)).toString().includes('inner body text')}`,
            );
          }),
      },
      wrap('Content-Disposition: attachment; filename="fwd.eml"\r\n'),
    );
    // The attached message is a part, and the splitter opens it too: its body is offered as
    // a part of its own (while the message/rfc822 part is still being read), each once.
    expect(seen.sort()).toEqual(['message/rfc822:true', 'text/plain:false', 'text/plain:true']);
  });

  it('opens an inline forwarded message and offers its parts and text', async () => {
    const seen: string[] = [];
    let text = '';
    await runPlugin(
      {
        name: 'p',
        message(ctx) {
          ctx.message.parts({}, async (p) => {
            seen.push(`${p.contentType}@${p.depth}`);
            p.skip();
          });
          return ctx.message.text().then((t) => {
            text = t.text;
          });
        },
      },
      wrap(''),
    );
    expect(seen).toEqual(['text/plain@1', 'text/plain@2']);
    expect(text).toContain('inner body text');
  });
});
