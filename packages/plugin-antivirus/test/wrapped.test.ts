/**
 * The property test of issue 13: a payload (EICAR as `evil.exe`) wrapped in random archives
 * (zip, tar, gzip, 7z, rar, TNEF), then a random way of carrying a file in a message (an
 * attachment, uuencode, yEnc, broken base64, or a MIME trick), then random outer messages
 * (attached messages, plain or base64, also behind MIME tricks), against real clamd in `parts`
 * mode and the banned check, with a MIME depth limit low enough that the deeper draws cross it.
 * The payload is always found, or the limit symbol is given.
 */
import { gzipSync } from 'node:zlib';
import { makeZip } from '@mef/test-servers/zip';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eicar } from './support/eicar.js';
import { uuencode, yencode } from './support/evasions.js';
import { tnef } from './support/outlook.js';
import { makeRar } from './support/rar-writer.js';
import { useScanEngine } from './support/scan-engine.js';
import { make7z } from './support/seven-zip.js';
import { makeTar } from './support/tar-writer.js';

let n = 0;

interface File {
  name: string;
  data: Buffer;
}

type ArchiveWrap = 'zip' | 'tar' | 'gzip' | '7z' | 'rar' | 'tnef';
type MessageWrap =
  | 'attachment'
  | 'uuencode'
  | 'yenc'
  | 'broken-base64'
  | 'two-boundaries'
  | 'two-content-types'
  | 'name-mismatch'
  | 'filename-mismatch'
  | 'no-encoding';
type OuterWrap = 'rfc822' | 'rfc822-base64' | 'two-boundaries' | 'two-content-types';

/** The MIME depth limit of the engine under test (the default is 32). */
const MAX_DEPTH = 8;
/** The archive nesting limit of the banned check (its default). */
const MAX_ARCHIVE_DEPTH = 3;

function archive(kind: ArchiveWrap, f: File): File {
  const base = `box${++n}`;
  switch (kind) {
    case 'zip':
      return { name: `${base}.zip`, data: makeZip([{ name: f.name, data: f.data }]) };
    case 'tar':
      return { name: `${base}.tar`, data: makeTar([f]) };
    case 'gzip':
      return { name: `${f.name}.gz`, data: gzipSync(f.data) };
    case 'rar':
      return { name: `${base}.rar`, data: makeRar([f]) };
    case '7z':
      return { name: `${base}.7z`, data: make7z({ [f.name]: f.data }) };
    case 'tnef':
      return { name: 'winmail.dat', data: tnef({ filename: f.name, content: f.data }) };
  }
}

const HEAD = 'From: m@example.test\r\nTo: b@example.test\r\nSubject: w\r\nMIME-Version: 1.0\r\n';
const b64 = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
const attach = (f: File, cte = 'base64') =>
  `Content-Type: application/octet-stream; name="${f.name}"\r\nContent-Disposition: attachment; filename="${f.name}"\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${b64(f.data)}\r\n`;
const mixed = (part: string) =>
  `${HEAD}Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\n${part}--b1--\r\n`;
const text = (body: string) =>
  `${HEAD}Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nhi\r\n${body}\r\n`;

function message(kind: MessageWrap, f: File): string {
  switch (kind) {
    case 'attachment':
      return mixed(attach(f));
    case 'no-encoding':
      return mixed(attach(f, '7bit'));
    case 'uuencode':
      return text(`begin 644 ${f.name}\r\n${uuencode(f.data)}\r\n\`\r\nend`);
    case 'yenc':
      return text(
        `=ybegin line=128 size=${f.data.length} name=${f.name}\r\n${yencode(f.data)}\r\n=yend size=${f.data.length}`,
      );
    case 'broken-base64':
      return mixed(
        `Content-Type: application/octet-stream; name="${f.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${f.data
          .toString('base64')
          .replace(/(.{1,7})(.{1,13})?/g, '$1*$2\r\n')}`,
      );
    case 'two-boundaries':
      return `${HEAD}Content-Type: multipart/mixed; boundary="o"; boundary="i"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nclean\r\n--i\r\n${attach(f)}--i--\r\n--o--\r\n`;
    case 'two-content-types':
      return `${HEAD}Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary="i"\r\n\r\n--i\r\n${attach(f)}--i--\r\n`;
    case 'name-mismatch':
      return `${HEAD}Content-Type: application/octet-stream; name="${f.name}"\r\nContent-Disposition: attachment; filename="doc.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(f.data)}\r\n`;
    case 'filename-mismatch':
      return `${HEAD}Content-Type: application/octet-stream; name="doc.pdf"\r\nContent-Disposition: attachment; filename="${f.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(f.data)}\r\n`;
  }
}

function outer(kind: OuterWrap, inner: string): string {
  const m = `m${++n}`;
  switch (kind) {
    case 'rfc822':
      return `${HEAD}Content-Type: multipart/mixed; boundary="${m}"\r\n\r\n--${m}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${inner}\r\n--${m}--\r\n`;
    case 'rfc822-base64':
      return `${HEAD}Content-Type: multipart/mixed; boundary="${m}"\r\n\r\n--${m}\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(Buffer.from(inner, 'latin1'))}\r\n--${m}--\r\n`;
    case 'two-boundaries':
      return `${HEAD}Content-Type: multipart/mixed; boundary="o${m}"; boundary="i${m}"\r\n\r\n--o${m}\r\nContent-Type: text/plain\r\n\r\nclean\r\n--i${m}\r\nContent-Type: message/rfc822\r\n\r\n${inner}\r\n--i${m}--\r\n--o${m}--\r\n`;
    case 'two-content-types':
      return `${HEAD}Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary="${m}"\r\n\r\n--${m}\r\nContent-Type: message/rfc822\r\n\r\n${inner}\r\n--${m}--\r\n`;
  }
}

describe('a payload wrapped in random containers and encodings', () => {
  const scan = useScanEngine({ limits: { maxDepth: MAX_DEPTH } });

  it('is always found, or the limit symbol is given', async () => {
    const archives = fc.array(fc.constantFrom<ArchiveWrap>('zip', 'tar', 'gzip', '7z', 'rar', 'tnef'), {
      maxLength: MAX_ARCHIVE_DEPTH + 1,
    });
    const first = fc.constantFrom<MessageWrap>(
      'attachment',
      'uuencode',
      'yenc',
      'broken-base64',
      'two-boundaries',
      'two-content-types',
      'name-mismatch',
      'filename-mismatch',
      'no-encoding',
    );
    const outers = fc.array(
      fc.constantFrom<OuterWrap>('rfc822', 'rfc822-base64', 'two-boundaries', 'two-content-types'),
      { maxLength: 6 },
    );
    const seen = { found: 0, depthLimit: 0, archiveLimit: 0 };
    await fc.assert(
      fc.asyncProperty(archives, first, outers, async (arch, msg, outs) => {
        let f: File = { name: 'evil.exe', data: eicar() };
        for (const a of arch) f = archive(a, f);
        let m = message(msg, f);
        for (const o of outs) m = outer(o, m);
        const v = await scan.engine.scan(Buffer.from(m, 'latin1'), {
          mailFrom: 'm@example.test',
          recipients: ['b@example.test'],
        });
        const names = v.symbols.map((s) => s.name);
        // Two outer messages stay well inside the depth limit.
        if (outs.length <= 2) expect(names).not.toContain('MEF_LIMIT_DEPTH');
        if (names.includes('MEF_LIMIT_DEPTH')) {
          seen.depthLimit++;
          return;
        }
        // The archive nesting limit: a deeper level gives the bomb symbol instead.
        const bomb = names.includes('ARCHIVE_BOMB');
        expect(bomb).toBe(arch.length > MAX_ARCHIVE_DEPTH);
        expect(v.disposition).toBe('reject');
        if (bomb) {
          seen.archiveLimit++;
          return;
        }
        seen.found++;
        expect(names).toContain('BANNED_EXTENSION');
        // clamd opens zip, tar, gzip, 7z and TNEF itself; rar only with the non-free unrar library.
        if (!arch.includes('rar')) expect(names).toContain('CLAMAV_VIRUS');
      }),
      { numRuns: 60, seed: 1913 },
    );
    // Every outcome was drawn: found, stopped by the depth limit, stopped by the archive limit.
    expect(seen.found).toBeGreaterThan(0);
    expect(seen.depthLimit).toBeGreaterThan(0);
    expect(seen.archiveLimit).toBeGreaterThan(0);
  });
});
