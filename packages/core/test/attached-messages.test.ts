import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import { type Limits, type MimeReadingsReport, mimeReadings, type Verdict } from '../src/index.js';

/** Attached messages (message/rfc822) are opened by the splitter as the pass goes, at every level. */

const HEAD = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n';
const PAYLOAD = 'PAYLOAD-0123456789';
const evil = `Content-Type: application/octet-stream; name="evil.exe"\r\nContent-Disposition: attachment; filename="evil.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(PAYLOAD).toString('base64')}\r\n`;

/** A message carrying `inner` as a message/rfc822 part, as an attachment, in base64 when asked. */
function wrap(
  inner: string,
  opts: { base64?: boolean; attachment?: boolean; text?: string; boundary?: string } = {},
): string {
  const b = opts.boundary ?? 'W';
  const head = [
    'Content-Type: message/rfc822',
    opts.attachment === false
      ? 'Content-Disposition: inline'
      : 'Content-Disposition: attachment; filename="fwd.eml"',
    opts.base64 ? 'Content-Transfer-Encoding: base64' : '',
  ]
    .filter(Boolean)
    .join('\r\n');
  const body = opts.base64
    ? (
        Buffer.from(inner)
          .toString('base64')
          .match(/.{1,76}/g) ?? []
      ).join('\r\n')
    : inner;
  const text = opts.text ?? 'see the attached message';
  return `${HEAD}Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${b}\r\n${head}\r\n\r\n${body}\r\n--${b}--\r\n`;
}

const innerMixed = `${HEAD}Content-Type: multipart/mixed; boundary="I"\r\n\r\n--I\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--I\r\n${evil}--I--\r\n`;

interface Seen {
  id: string;
  depth: number;
  type: string;
  filename: string | undefined;
  content: string;
}

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

async function read(
  message: string,
  limits: Partial<Limits> = {},
): Promise<{ parts: Seen[]; text: string; report: MimeReadingsReport; verdict: Verdict }> {
  const parts: Seen[] = [];
  let text = '';
  let report: Promise<MimeReadingsReport> | undefined;
  const engine = createEngine({ limits }).use({
    name: 'collect',
    message(ctx) {
      report = mimeReadings(ctx.message);
      ctx.message.parts({}, async (part) => {
        const content = await collect(part.content);
        parts.push({
          id: part.partId,
          depth: part.depth,
          type: part.contentType,
          filename: part.filename,
          content,
        });
      });
      return ctx.message.text().then((t) => {
        text = t.text;
      });
    },
  });
  await engine.start();
  try {
    const verdict = await engine.scan(message, {
      mailFrom: 'a@example.test',
      recipients: ['b@example.test'],
    });
    return { parts, text, report: await (report as Promise<MimeReadingsReport>), verdict };
  } finally {
    await engine.stop();
  }
}

describe('attached messages opened by the splitter', () => {
  it('opens an attached message marked as an attachment, offering its parts under its part id, with no second reading', async () => {
    const { parts, report, text } = await read(wrap(innerMixed));
    const inner = parts.find((p) => p.filename === 'evil.exe');
    expect(inner).toMatchObject({ id: '2.2', depth: 3, content: PAYLOAD });
    expect(parts.find((p) => p.content === 'inner text')).toMatchObject({ id: '2.1', depth: 3 });
    // The attached message itself is a part too (a scanner may unpack it itself).
    expect(parts.find((p) => p.type === 'message/rfc822')).toMatchObject({ id: '2', depth: 1 });
    expect(report).toMatchObject({ kinds: [], containers: [], readings: [], extraParts: 0 });
    // A reader does not show the text of an attached file inline.
    expect(text).toContain('see the attached message');
    expect(text).not.toContain('inner text');
  });

  it('opens a base64 attached message inside a base64 attached message', async () => {
    const twice = wrap(wrap(innerMixed, { base64: true }), { base64: true, boundary: 'V' });
    const { parts, report } = await read(twice);
    expect(parts.find((p) => p.filename === 'evil.exe')).toMatchObject({ id: '2.2.2', content: PAYLOAD });
    expect(report.readings).toEqual([]);
  });

  it('shows the text of an inline attached message in the text view', async () => {
    const { text } = await read(wrap(innerMixed, { base64: true, attachment: false }));
    expect(text).toContain('inner text');
  });

  it('stops at the depth limit with MEF_LIMIT_DEPTH, offering what lies above it', async () => {
    let message = innerMixed;
    for (let i = 0; i < 6; i++)
      message = wrap(message, { base64: i % 2 === 0, text: `level ${i}`, boundary: `W${i}` });
    const { parts, verdict } = await read(message, { maxDepth: 6 });
    expect(verdict.symbols.map((s) => s.name)).toContain('MEF_LIMIT_DEPTH');
    expect(parts.some((p) => p.content === PAYLOAD)).toBe(false);
    expect(parts.every((p) => p.depth <= 6)).toBe(true);
    expect(parts.filter((p) => p.content.startsWith('level ')).length).toBeGreaterThan(1);
    // Deep enough, the same message is opened to the bottom.
    const deep = await read(message, { maxDepth: 32 });
    expect(deep.parts.find((p) => p.content === PAYLOAD)?.depth).toBe(13);
    expect(deep.verdict.symbols.map((s) => s.name)).not.toContain('MEF_LIMIT_DEPTH');
  });

  it('gives MEF_LIMIT_DEPTH when only another reading of an ambiguous message goes past the depth limit', async () => {
    let deep = innerMixed;
    for (let i = 0; i < 3; i++) deep = wrap(deep, { boundary: `W${i}` });
    // The splitter takes the first boundary and sees one text part; the other readings take
    // the second and find the attached messages, nested past maxDepth.
    const message = `${HEAD}Content-Type: multipart/mixed; boundary="OUT"; boundary="IN"\r\n\r\n--OUT\r\nContent-Type: text/plain\r\n\r\nclean\r\n--IN\r\nContent-Type: message/rfc822\r\n\r\n${deep}\r\n--IN--\r\n--OUT--\r\n`;
    const shallow = await read(message, { maxDepth: 6 });
    expect(shallow.report.kinds).toContain('duplicate-boundary');
    expect(shallow.parts.some((p) => p.content === PAYLOAD)).toBe(false);
    expect(shallow.verdict.symbols.map((s) => s.name)).toContain('MEF_LIMIT_DEPTH');
    // Deep enough, the other reading offers the payload and no limit is met.
    const whole = await read(message, { maxDepth: 32 });
    expect(whole.parts.find((p) => p.content === PAYLOAD)?.id).toMatch(/^[a-z]+:/);
    expect(whole.verdict.symbols.map((s) => s.name)).not.toContain('MEF_LIMIT_DEPTH');
  });

  it('gives MEF_LIMIT_PARTS when only another reading of an ambiguous message has more parts than maxParts', async () => {
    const many = Array.from(
      { length: 30 },
      (_, i) => `--IN\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`,
    ).join('');
    const message = `${HEAD}Content-Type: multipart/mixed; boundary="OUT"; boundary="IN"\r\n\r\n--OUT\r\nContent-Type: text/plain\r\n\r\nclean\r\n${many}--IN\r\n${evil}--IN--\r\n--OUT--\r\n`;
    const few = await read(message, { maxParts: 10 });
    expect(few.parts.some((p) => p.content === PAYLOAD)).toBe(false);
    expect(few.verdict.symbols.map((s) => s.name)).toContain('MEF_LIMIT_PARTS');
    const enough = await read(message, { maxParts: 100 });
    expect(enough.parts.some((p) => p.content === PAYLOAD)).toBe(true);
    expect(enough.verdict.symbols.map((s) => s.name)).not.toContain('MEF_LIMIT_PARTS');
  });

  it('counts the parts of attached messages against maxParts', async () => {
    const many = Array.from(
      { length: 30 },
      (_, i) => `--I\r\nContent-Type: text/plain\r\n\r\np${i}\r\n`,
    ).join('');
    const inner = `${HEAD}Content-Type: multipart/mixed; boundary="I"\r\n\r\n${many}--I--\r\n`;
    const { parts, verdict } = await read(wrap(inner, { base64: true }), { maxParts: 20 });
    expect(verdict.symbols.map((s) => s.name)).toContain('MEF_LIMIT_PARTS');
    expect(parts.length).toBeLessThan(20);
  });

  it('reads on past a broken attached message', async () => {
    const broken = wrap('\x00\x01 not a message at all', { base64: true }).replace(
      '--W--',
      `--W\r\n${evil}--W--`,
    );
    const { parts } = await read(broken);
    expect(parts.find((p) => p.filename === 'evil.exe')).toMatchObject({ id: '3', content: PAYLOAD });
  });
});
