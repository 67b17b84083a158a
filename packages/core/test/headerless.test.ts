import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { Plugin } from '../src/index.js';
import { expectVerdict, runPlugin } from '../src/testing/index.js';

const body = 'Hello Bob,\r\nplease find the invoice below.\r\n\r\nBuy now at http://spam.example/\r\n';

const reader = (seen: { text?: string; fields?: number }): Plugin => ({
  name: 'reader',
  message(ctx) {
    const text = ctx.message.text();
    const headers = ctx.message.headers();
    return (async () => {
      seen.text = (await text).text;
      seen.fields = (await headers).fields.length;
    })();
  },
});

describe('a message with no header block', () => {
  it('gets a verdict with MEF_MISSING_HEADERS, and its whole text is read as the body', async () => {
    const seen: { text?: string; fields?: number } = {};
    const v = await runPlugin(reader(seen), body);
    expectVerdict(v).toAccept().toHaveSymbol('MEF_MISSING_HEADERS', 0).toHaveNoErrors();
    expect(seen.fields).toBe(0);
    expect(seen.text).toContain('Hello Bob');
    expect(seen.text).toContain('http://spam.example/');
  });

  it('reads the same when fed one byte at a time', async () => {
    const seen: { text?: string } = {};
    const engine = createEngine().use(reader(seen));
    const v = await engine.scan(
      (async function* () {
        for (const b of Buffer.from(body)) yield Buffer.from([b]);
      })(),
    );
    expectVerdict(v).toHaveSymbol('MEF_MISSING_HEADERS');
    expect(seen.text).toContain('Hello Bob');
    await engine.stop();
  });

  it('hands it on with added fields and the empty line before the body, every body byte unchanged', async () => {
    const engine = createEngine().use({
      name: 'tagger',
      message(ctx) {
        ctx.findings.addHeader('X-Checked', 'yes');
      },
    });
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    const tx = conn.transaction();
    await tx.mailFrom('a@example.test');
    await tx.rcptTo('b@example.test');
    await tx.data(body, { keep: true });
    const chunks: Buffer[] = [];
    for await (const c of tx.output()) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(`X-Checked: yes\r\n\r\n${body}`);
    await tx.dispose();
    await conn.close();
    await engine.stop();
  });

  it('keeps reading a normal message, an mbox From_ line and an empty header block as before', async () => {
    for (const m of [
      'Subject: hi\r\n\r\nbody\r\n',
      'From a@b Mon Nov 30 10:00:00 2026\r\nSubject: hi\r\n\r\nx\r\n',
    ]) {
      const v = await runPlugin([], m);
      expectVerdict(v).notToHaveSymbol('MEF_MISSING_HEADERS');
    }
  });
});
