import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import { type MimePart, type MimeReadingsReport, mimeReadings } from '../src/index.js';
import { headerAmbiguity } from '../src/message/ambiguity.js';
import { extractEmbedded } from '../src/message/embedded.js';
import { parseValue } from '../src/message/mime-params.js';
import { decodeBase64, readMessage, splitMultipart } from '../src/message/mime-reader.js';
import { READ_POLICIES } from '../src/message/read-policies.js';
import { corpusFiles } from './helpers.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Seen {
  id: string;
  filename: string | undefined;
  content: string;
}

/** Runs one message through an engine whose only stage takes every part and the readings report. */
async function read(message: string | Buffer): Promise<{ parts: Seen[]; report: MimeReadingsReport }> {
  const parts: Seen[] = [];
  let report: Promise<MimeReadingsReport> | undefined;
  const engine = createEngine().use({
    name: 'collect',
    async message(ctx) {
      report = mimeReadings(ctx.message);
      const work: Promise<void>[] = [];
      ctx.message.parts({}, (part: MimePart) => {
        const p = collect(part.content).then((body) => {
          parts.push({ id: part.partId, filename: part.filename, content: body.toString('latin1') });
        });
        work.push(p);
        return p;
      });
      await ctx.message.ended();
      await Promise.all(work);
    },
  });
  await engine.start();
  try {
    await engine.scan(message, { mailFrom: 'a@example.test', recipients: ['b@example.test'] });
  } finally {
    await engine.stop();
  }
  return { parts, report: await (report as Promise<MimeReadingsReport>) };
}

const HEAD = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n';
const PAYLOAD = 'PAYLOAD-0123456789';
const b64 = Buffer.from(PAYLOAD).toString('base64');

const twoBoundaries = `${HEAD}Content-Type: multipart/mixed; boundary="OUT"; boundary="IN"\r\n\r\n--OUT\r\nContent-Type: text/plain\r\n\r\nclean\r\n--IN\r\nContent-Type: application/octet-stream; name="evil.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--IN--\r\n--OUT--\r\n`;

describe('readings of an ambiguous message', () => {
  it('reads a well-formed message once: no ambiguity, no other reading, no extra part', async () => {
    const msg = `${HEAD}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--B--\r\n`;
    const { parts, report } = await read(msg);
    expect(report).toEqual({ kinds: [], containers: [], readings: [], extraParts: 0, skipped: false });
    expect(parts.map((p) => p.id)).toEqual(['1', '2']);
  });

  it('offers the parts of the second boundary, with their own part ids, and names the kind', async () => {
    const { parts, report } = await read(twoBoundaries);
    expect(report.kinds).toEqual(['duplicate-boundary']);
    expect(report.readings.length).toBeGreaterThan(1);
    const hidden = parts.filter((p) => p.content === PAYLOAD);
    expect(hidden.map((p) => p.filename)).toContain('evil.exe');
    expect(hidden[0]?.id).toMatch(/^[a-z]+:/);
    expect(new Set(parts.map((p) => p.id)).size).toBe(parts.length);
  });

  it('offers the Content-Type name when the Content-Disposition file name disagrees', async () => {
    const msg = `${HEAD}Content-Type: application/octet-stream; name="evil.exe"\r\nContent-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
    const { parts, report } = await read(msg);
    expect(report.kinds).toEqual(['filename-mismatch']);
    expect(parts.map((p) => p.filename).sort()).toEqual(['evil.exe', 'report.pdf']);
  });

  it('opens uuencoded files in a text body and attached messages', async () => {
    const uu = `${HEAD}Content-Type: text/plain\r\n\r\nsee\r\nbegin 644 a.exe\r\n${'#86)C'}\r\n\`\r\nend\r\n`;
    const r1 = await read(uu);
    expect(r1.report.containers).toEqual(['embedded']);
    expect(r1.report.kinds).toEqual([]);
    expect(r1.parts.find((p) => p.filename === 'a.exe')?.content).toBe('abc');
    const inner = `${HEAD}Content-Type: application/octet-stream; name="evil.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
    const fwd = `${HEAD}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(inner).toString('base64')}\r\n--B--\r\n`;
    const r2 = await read(fwd);
    // The splitter opens the attached message itself: no second reading is needed for it.
    expect(r2.report).toMatchObject({ containers: [], readings: [] });
    expect(r2.parts.find((p) => p.filename === 'evil.exe')).toMatchObject({ id: '1.TEXT', content: PAYLOAD });
  });

  it('keeps a large message only once something was found early; a late finding is reported as skipped', async () => {
    const pad = `${'x'.repeat(998)}\r\n`.repeat(9 * 1024);
    const mismatch = `Content-Type: application/octet-stream; name="evil.exe"\r\nContent-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
    const late = `${HEAD}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n${pad}--B\r\n${mismatch}--B--\r\n`;
    const r1 = await read(late);
    expect(r1.report).toMatchObject({ kinds: ['filename-mismatch'], skipped: true, extraParts: 0 });
    const early = twoBoundaries.replace('clean\r\n', `${pad}clean\r\n`);
    const r2 = await read(early);
    expect(r2.report).toMatchObject({ kinds: ['duplicate-boundary'], skipped: false });
    expect(r2.parts.some((p) => p.content === PAYLOAD && p.filename === 'evil.exe')).toBe(true);
  });

  it('offers each part once to every stage: a part before the finding is not offered again by the second reading', async () => {
    // The attached message (an attachment, so the splitter leaves it closed) is noticed only
    // after the pdf has gone by; the second reading starts from the top and meets it again.
    const inner = `${HEAD}Content-Type: application/octet-stream; name="inner.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('INNER').toString('base64')}\r\n`;
    const pdf = `Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
    const msg = `${HEAD}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\n${pdf}--B\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="fwd.eml"\r\n\r\n${inner}\r\n--B--\r\n`;
    const seen: Record<string, string[]> = { a: [], b: [] };
    const engine = createEngine();
    for (const name of ['a', 'b'])
      engine.use({
        name,
        message(ctx) {
          ctx.message.parts({}, async (part) => {
            const body = await collect(part.content);
            seen[name]?.push(`${part.filename ?? ''}|${part.contentType}|${body.toString('latin1')}`);
          });
        },
      });
    await engine.start();
    try {
      await engine.scan(msg, { mailFrom: 'a@example.test', recipients: ['b@example.test'] });
    } finally {
      await engine.stop();
    }
    for (const list of Object.values(seen)) {
      expect(new Set(list).size).toBe(list.length);
      expect(list.filter((p) => p === `a.pdf|application/pdf|${PAYLOAD}`)).toHaveLength(1);
      expect(list.filter((p) => p.startsWith('|text/plain|hello'))).toHaveLength(1);
      // The inner part, which only the second reading opens, is offered.
      expect(list).toContain('inner.bin|application/octet-stream|INNER');
    }
    // The same bytes under another name are another part.
    const renamed = twoBoundaries.replace(
      '\r\n--IN--',
      `\r\n--IN\r\n${pdf.replace(/a\.pdf/g, 'b.pdf')}--IN--`,
    );
    const { parts } = await read(renamed);
    expect(
      parts
        .filter((p) => p.content === PAYLOAD)
        .map((p) => p.filename)
        .sort(),
    ).toEqual(['b.pdf', 'evil.exe']);
  });

  it('offers every attachment mailparser finds in the crafted messages', async () => {
    const messages = [
      twoBoundaries,
      `${HEAD}Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary="IN"\r\n\r\n--IN\r\nContent-Type: application/octet-stream; name="evil.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--IN--\r\n`,
      `${HEAD}Content-Type: multipart/mixed; boundary=IN(OUT)\r\n\r\n--IN(OUT)\r\nContent-Type: text/plain\r\n\r\nclean\r\n--IN\r\nContent-Type: application/octet-stream; name="evil.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--IN--\r\n--IN(OUT)--\r\n`,
    ];
    for (const m of messages) {
      const theirs = (await simpleParser(m)).attachments.map((a) => a.content.toString('latin1'));
      const ours = new Set((await read(m)).parts.map((p) => p.content));
      for (const t of theirs) expect(ours.has(t)).toBe(true);
    }
  });

  it('finds no ambiguity in the corpus messages that are well formed', async () => {
    const flagged: string[] = [];
    for (const f of corpusFiles().filter((c) => !/malformed|torture/i.test(c.name))) {
      const { report } = await read(readFileSync(f.path));
      if (report.kinds.length) flagged.push(`${f.name}: ${report.kinds.join(',')}`);
    }
    // Odd on purpose: a boundary with `;` in it (from HTML entities).
    const known = ['mailparser/spam.eml: boundary-syntax'];
    expect(flagged.filter((f) => !known.includes(f))).toEqual([]);
  });
});

describe('the pieces of a reading', () => {
  it('reads parameters under each policy', () => {
    const [lenient, naive] = READ_POLICIES;
    const v = 'multipart/mixed; boundary="a;b"; boundary=c (d); x*0=e; x*1=f';
    expect(parseValue(v, lenient!).params.get('boundary')).toBe('a;b');
    expect(parseValue(v, lenient!).params.get('x')).toBe('ef');
    expect(parseValue(v, naive!).params.get('boundary')).toBe('c (d)');
    expect(parseValue(v, naive!).params.get('x')).toBe(undefined);
  });

  it("reads parameters as Thunderbird's scan does, and flags where it parts ways", () => {
    const tb = READ_POLICIES.find((p) => p.name === 'thunderbird')!;
    const boundary = (v: string) => parseValue(v, tb).params.get('boundary');
    expect(boundary('multipart/mixed; boundary=IN OUT')).toBe('IN');
    expect(boundary('multipart/mixed; boundary="IN" junk; boundary*0="OUT"')).toBe('IN');
    expect(parseValue('multipart/mixed, boundary="IN"', tb)).toMatchObject({ value: 'multipart/mixed' });
    expect(boundary('multipart/mixed, boundary="IN"')).toBe('IN');
    expect(boundary('multipart/mixed; boundary="OUT"; boundary*0="I"; boundary*1="N"')).toBe('IN');
    expect(boundary('multipart/mixed; boundary="a;b"; charset=x')).toBe('a;b');
    const kinds = (v: string) => headerAmbiguity(Buffer.from(`Content-Type: ${v}\r\n`));
    expect(kinds('multipart/mixed; boundary=IN OUT')).toEqual(['boundary-syntax']);
    expect(kinds('multipart/mixed; boundary="IN" junk')).toEqual(['boundary-syntax']);
    expect(kinds('multipart/mixed, boundary="IN"')).toEqual(['header-syntax']);
    expect(kinds('multipart/mixed; boundary="IN"; charset=x')).toEqual([]);
    expect(kinds('multipart/mixed; boundary=IN')).toEqual([]);
  });

  it('splits multipart bodies, decodes forgiving base64 and finds embedded files', () => {
    const body = Buffer.from('pre\r\n--b\r\n\r\none\r\n--b \r\n\r\ntwo\r\n--b--\r\nepilogue');
    expect(splitMultipart(body, 'b').map((p) => p.toString())).toEqual(['\r\none', '\r\ntwo']);
    expect(decodeBase64(Buffer.from('YWJj*\r\nZA==ZWY=')).toString()).toBe('abcdef');
    const yenc = extractEmbedded(
      Buffer.from('=ybegin line=128 size=3 name=x.bin\r\n\x8b\x8c\x8d\r\n=yend size=3\r\n', 'latin1'),
    );
    expect(yenc).toEqual([{ kind: 'yenc', filename: 'x.bin', content: Buffer.from('abc') }]);
  });

  it('names the kinds of ambiguity of a header block', () => {
    const k = (h: string) => headerAmbiguity(Buffer.from(h));
    expect(k('Content-Type: text/plain; charset=utf-8\r\n')).toEqual([]);
    expect(k('Content-Type: multipart/mixed; boundary=a; boundary=b\r\n')).toEqual(['duplicate-boundary']);
    expect(k('Content-Type: text/plain\r\nContent-Type: text/html\r\n')).toEqual(['duplicate-field']);
    expect(k('Content-Type: multipart/mixed; boundary*0=a; boundary*1=b\r\n')).toEqual(['boundary-syntax']);
    expect(k('Content-Type : text/plain\r\n')).toEqual(['header-syntax']);
    expect(k('Content-Type: text/plain (x)\r\n')).toEqual(['header-syntax']);
    expect(
      k('Content-Type: a/b; name="x.exe"\r\nContent-Disposition: attachment; filename="y.pdf"\r\n'),
    ).toEqual(['filename-mismatch']);
    expect(
      k(
        'Content-Type: a/b; name="=?utf-8?Q?x.pdf?="\r\nContent-Disposition: attachment; filename="x.pdf"\r\n',
      ),
    ).toEqual([]);
    // Two values of one file name parameter, plain or RFC 2231, and Thunderbird's value scan.
    expect(k('Content-Disposition: attachment; filename="a.pdf"; filename="b.exe"\r\n')).toEqual([
      'filename-mismatch',
    ]);
    expect(k('Content-Type: a/b; name="x.exe"; name*=us-ascii\'\'x.pdf\r\n')).toEqual(['filename-mismatch']);
    expect(k('Content-Disposition: attachment; filename="x.pdf"; filename*=utf-8\'\'x.pdf\r\n')).toEqual([]);
    expect(k('Content-Disposition: attachment; filename=x.exe y.pdf\r\n')).toEqual(['header-syntax']);
    expect(k('Content-Disposition: attachment, filename="x.exe"\r\n')).toEqual(['header-syntax']);
    expect(k('Content-Disposition: attachment; filename=x.pdf; size=3\r\n')).toEqual([]);
  });

  it('reads any damage of an ambiguous message without throwing, within its limits', () => {
    const base = Buffer.from(twoBoundaries);
    const limits = { maxDepth: 4, maxParts: 20, maxBytes: 10_000 };
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat({ max: base.length - 1 }), fc.constantFrom(...Buffer.from('-\r\n";=()*AB '))),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (edits) => {
          const b = Buffer.from(base);
          for (const [at, byte] of edits) b[at] = byte;
          for (const policy of READ_POLICIES) {
            const { leaves } = readMessage(b, policy, limits);
            expect(leaves.length).toBeLessThanOrEqual(limits.maxParts * 33);
            expect(leaves.every((l) => l.depth <= limits.maxDepth + 1)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
