import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeZip } from '@mef/test-servers/zip';
import { describe, expect, it } from 'vitest';
import { mail } from './support/mail.js';
import { envelope, useScanEngine } from './support/scan-engine.js';
import { makeTar } from './support/tar-writer.js';

const TESTFILES = '/usr/share/clamav-testfiles';

const HEAD = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\nMIME-Version: 1.0\r\n';

/** Clean mail as clients write it, including the shapes the ambiguity checks must not flag. */
function cleanMessage(i: number): string {
  const text = `Dear Bob,\r\nlet us begin the meeting at ${i}:00.\r\nbegin 2 items on the list\r\nRegards`;
  switch (i % 8) {
    case 0:
      return mail({ body: text });
    case 1:
      return mail({
        attachments: [
          { filename: `report-${i}.pdf`, contentType: 'application/pdf', content: `%PDF-1.4 ${i}` },
        ],
      });
    case 2:
      return mail({
        attachments: [
          {
            filename: `notes-${i}.zip`,
            contentType: 'application/zip',
            content: makeZip([{ name: 'a.txt', data: Buffer.from(text) }]),
          },
        ],
      });
    case 3:
      return mail({
        attachments: [
          {
            filename: `logs-${i}.tar.gz`,
            content: gzipSync(makeTar([{ name: 'log.txt', data: Buffer.from(text) }])),
          },
        ],
      });
    case 4:
      return mail({
        attachments: [
          { contentType: 'message/rfc822', content: mail({ subject: `fwd ${i}`, body: text }), inline: true },
        ],
      });
    case 5:
      // RFC 2231 file name and an encoded-word name for the same file, as Outlook writes them.
      return `${HEAD}Content-Type: multipart/mixed; boundary="----=_Part_${i}"\r\n\r\n------=_Part_${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n------=_Part_${i}\r\nContent-Type: application/pdf; name="=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?="\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`%PDF-1.4 ${i}`).toString('base64')}\r\n------=_Part_${i}--\r\n`;
    case 6:
      return `${HEAD}Content-Type: multipart/alternative;\r\n boundary="alt${i}"\r\n\r\n--alt${i}\r\nContent-Type: text/plain; charset="us-ascii"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${text}\r\n--alt${i}\r\nContent-Type: text/html; charset="us-ascii"\r\n\r\n<p>${text}</p>\r\n--alt${i}--\r\n`;
    default:
      return mail({
        attachments: [
          {
            filename: `photo (${i}).jpg`,
            contentType: 'image/jpeg',
            content: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
          },
        ],
      });
  }
}

describe('no new false alarms', () => {
  const scan = useScanEngine();

  it('200 clean messages get no symbol and are accepted', async () => {
    const alarms: string[] = [];
    for (let i = 0; i < 200; i++) {
      const v = await scan.engine.scan(cleanMessage(i), envelope);
      const names = v.symbols.map((s) => `${s.name}(${(s.options ?? []).join(',')})`);
      if (v.disposition !== 'accept' || names.length)
        alarms.push(`${i}: ${v.disposition} ${names.join(' ')}`);
    }
    expect(alarms).toEqual([]);
  });

  it('the 44 clamav-testfiles are still found in parts mode, with no MIME_AMBIGUOUS', async () => {
    const files = readdirSync(TESTFILES).sort();
    expect(files.length).toBe(44);
    const missed: string[] = [];
    for (const f of files) {
      const v = await scan.engine.scan(
        mail({ attachments: [{ filename: f, content: readFileSync(join(TESTFILES, f)) }] }),
        envelope,
      );
      const names = v.symbols.map((s) => s.name);
      const virus = v.symbols.find((s) => s.name === 'CLAMAV_VIRUS')?.options ?? [];
      if (!virus.includes('ClamAV-Test-File.UNOFFICIAL') || names.includes('MIME_AMBIGUOUS'))
        missed.push(`${f}: ${names.join(' ')}`);
    }
    expect(missed).toEqual([]);
  });
});
