import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeZip } from '@mef/test-servers/zip';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { eicar } from './support/eicar.js';
import { makeRar } from './support/rar-writer.js';
import { useScanEngine } from './support/scan-engine.js';
import { makeTar } from './support/tar-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'mef-av-wrapped-'));
let n = 0;

interface File {
  name: string;
  data: Buffer;
}

type ArchiveWrap = 'zip' | 'tar' | 'gzip' | '7z' | 'rar';
type MessageWrap = 'attachment' | 'uuencode' | 'two-boundaries' | 'name-mismatch' | 'no-encoding';
type OuterWrap = 'rfc822' | 'rfc822-base64' | 'two-boundaries';

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
    case '7z': {
      const work = mkdtempSync(join(dir, '7z-'));
      writeFileSync(join(work, f.name), f.data);
      execFileSync('7zz', ['a', '-bd', 'out.7z', f.name], { cwd: work, stdio: 'ignore' });
      return { name: `${base}.7z`, data: readFileSync(join(work, 'out.7z')) };
    }
  }
}

const HEAD = 'From: m@example.test\r\nTo: b@example.test\r\nSubject: w\r\nMIME-Version: 1.0\r\n';
const b64 = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
const attach = (f: File, cte = 'base64') =>
  `Content-Type: application/octet-stream; name="${f.name}"\r\nContent-Disposition: attachment; filename="${f.name}"\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${b64(f.data)}\r\n`;

function uuencode(data: Buffer): string {
  const enc = (x: number) => String.fromCharCode(x === 0 ? 96 : x + 32);
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 45) {
    const c = data.subarray(i, i + 45);
    let line = enc(c.length);
    for (let j = 0; j < c.length; j += 3) {
      const [a = 0, b = 0, d = 0] = [c[j], c[j + 1], c[j + 2]];
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (d >> 6)) & 63) + enc(d & 63);
    }
    lines.push(line);
  }
  return lines.join('\r\n');
}

function message(kind: MessageWrap, f: File): string {
  switch (kind) {
    case 'attachment':
      return `${HEAD}Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n${attach(f)}--b1--\r\n`;
    case 'no-encoding':
      return `${HEAD}Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n${attach(f, '7bit')}--b1--\r\n`;
    case 'uuencode':
      return `${HEAD}Content-Type: text/plain\r\n\r\nhi\r\nbegin 644 ${f.name}\r\n${uuencode(f.data)}\r\n\`\r\nend\r\n`;
    case 'two-boundaries':
      return `${HEAD}Content-Type: multipart/mixed; boundary="o"; boundary="i"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nclean\r\n--i\r\n${attach(f)}--i--\r\n--o--\r\n`;
    case 'name-mismatch':
      return `${HEAD}Content-Type: application/octet-stream; name="${f.name}"\r\nContent-Disposition: attachment; filename="doc.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(f.data)}\r\n`;
  }
}

function outer(kind: OuterWrap, inner: string): string {
  switch (kind) {
    case 'rfc822':
      return `${HEAD}Content-Type: multipart/mixed; boundary="m${++n}"\r\n\r\n--m${n}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${inner}\r\n--m${n}--\r\n`;
    case 'rfc822-base64':
      return `${HEAD}Content-Type: multipart/mixed; boundary="m${++n}"\r\n\r\n--m${n}\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(Buffer.from(inner, 'latin1'))}\r\n--m${n}--\r\n`;
    case 'two-boundaries':
      return `${HEAD}Content-Type: multipart/mixed; boundary="o${++n}"; boundary="i${n}"\r\n\r\n--o${n}\r\nContent-Type: text/plain\r\n\r\nclean\r\n--i${n}\r\nContent-Type: message/rfc822\r\n\r\n${inner}\r\n--i${n}--\r\n--o${n}--\r\n`;
  }
}

describe('a payload wrapped in random containers and encodings', () => {
  const scan = useScanEngine();
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is always found, or the limit symbol is given', async () => {
    const archives = fc.array(fc.constantFrom<ArchiveWrap>('zip', 'tar', 'gzip', '7z', 'rar'), {
      maxLength: 4,
    });
    const first = fc.constantFrom<MessageWrap>(
      'attachment',
      'uuencode',
      'two-boundaries',
      'name-mismatch',
      'no-encoding',
    );
    const outers = fc.array(fc.constantFrom<OuterWrap>('rfc822', 'rfc822-base64', 'two-boundaries'), {
      maxLength: 3,
    });
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
        const limited = names.includes('ARCHIVE_BOMB');
        // The archive depth limit is 3: a fourth level gives the bomb symbol instead.
        expect(limited).toBe(arch.length > 3);
        if (!limited) expect(names).toContain('BANNED_EXTENSION');
        // clamd opens zip, tar, gzip and 7z itself; rar only with the non-free unrar library.
        if (!limited && !arch.includes('rar')) expect(names).toContain('CLAMAV_VIRUS');
        expect(v.disposition).toBe('reject');
      }),
      { numRuns: 40, seed: 1913 },
    );
  });
});
