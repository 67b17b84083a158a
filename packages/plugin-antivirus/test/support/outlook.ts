/**
 * Messages whose payload Outlook shows as an attachment, each resting on a reading Outlook and
 * Exchange document ([MS-OXCMAIL], the MAPI "attached files" page, KB 145919) or are known for:
 * the file name in the Content-Type `name` parameter, RFC 2047 encoded words inside a file name
 * parameter, RFC 2231 file names, TNEF (`winmail.dat`, `application/ms-tnef`), and uuencoded
 * files in a plain text body.
 */
import { HEAD, type Payload } from './evasions.js';

export interface OutlookCase {
  readonly name: string;
  readonly message: Buffer;
}

const b64 = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');

/** A multipart/mixed message: a text part, then one part with the given header fields and body. */
function message(fields: readonly string[], body: string): Buffer {
  return Buffer.from(
    [
      HEAD,
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'Please see the attachment.',
      '--B',
      ...fields,
      '',
      body,
      '--B--',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/** One TNEF attribute: level, id, length, data, checksum (the sum of the data bytes). */
function attribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt8(level, 0);
  head.writeUInt32LE(id >>> 0, 1);
  head.writeUInt32LE(data.length, 5);
  let sum = 0;
  for (const byte of data) sum = (sum + byte) & 0xffff;
  const tail = Buffer.alloc(2);
  tail.writeUInt16LE(sum, 0);
  return Buffer.concat([head, data, tail]);
}

/** A `winmail.dat` with one attached file, as Outlook writes it when it sends in rich text. */
export function tnef(p: Payload): Buffer {
  const signature = Buffer.alloc(6);
  signature.writeUInt32LE(0x223e9f78, 0);
  signature.writeUInt16LE(0x0001, 4);
  const version = Buffer.alloc(4);
  version.writeUInt32LE(0x00010000, 0);
  return Buffer.concat([
    signature,
    attribute(1, 0x00089006, version), // attTnefVersion
    attribute(2, 0x00069002, Buffer.alloc(14)), // attAttachRendData: an attachment starts
    attribute(2, 0x00018010, Buffer.from(`${p.filename}\0`, 'latin1')), // attAttachTitle
    attribute(2, 0x0006800f, p.content), // attAttachData
  ]);
}

/** One message per Outlook reading. */
export function outlookCases(p: Payload): OutlookCase[] {
  const [stem, ext] = [p.filename.replace(/\.[^.]*$/, ''), p.filename.replace(/^.*\./, '')];
  const encodedWord = `=?utf-8?B?${Buffer.from(p.filename).toString('base64')}?=`;
  const base64 = ['Content-Transfer-Encoding: base64'];
  return [
    {
      name: 'the file name in the Content-Type name parameter only (how Outlook and Exchange write it)',
      message: message(
        [`Content-Type: application/octet-stream; name="${p.filename}"`, ...base64],
        b64(p.content),
      ),
    },
    {
      name: 'an RFC 2047 encoded word inside a quoted file name (Outlook writes and reads it)',
      message: message(
        [
          `Content-Type: application/octet-stream; name="${encodedWord}"`,
          `Content-Disposition: attachment; filename="${encodedWord}"`,
          ...base64,
        ],
        b64(p.content),
      ),
    },
    {
      name: 'an RFC 2231 extended file name with percent-encoding',
      message: message(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment; filename*=utf-8''${stem}%2E${ext}`,
          ...base64,
        ],
        b64(p.content),
      ),
    },
    {
      name: 'an RFC 2231 file name in continuations',
      message: message(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment; filename*0="${stem}"; filename*1=".${ext}"`,
          ...base64,
        ],
        b64(p.content),
      ),
    },
    {
      name: 'a TNEF winmail.dat (application/ms-tnef) carrying the file',
      message: message(
        [
          'Content-Type: application/ms-tnef; name="winmail.dat"',
          'Content-Disposition: attachment; filename="winmail.dat"',
          ...base64,
        ],
        b64(tnef(p)),
      ),
    },
    {
      name: 'a uuencoded file in a plain text body',
      message: Buffer.from(
        [
          HEAD,
          'Content-Type: text/plain; charset=us-ascii',
          '',
          'Please see the attachment.',
          '',
          `begin 644 ${p.filename}`,
          ...uuencode(p.content),
          '`',
          'end',
          '',
        ].join('\r\n'),
        'latin1',
      ),
    },
  ];
}

/** uuencoded lines of `data`. */
function uuencode(data: Buffer): string[] {
  const enc = (n: number) => String.fromCharCode(n === 0 ? 0x60 : n + 0x20);
  const lines: string[] = [];
  for (let at = 0; at < data.length; at += 45) {
    const chunk = data.subarray(at, at + 45);
    let line = enc(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const [a = 0, b = 0, c = 0] = [chunk[i], chunk[i + 1], chunk[i + 2]];
      line += enc(a >> 2) + enc(((a & 3) << 4) | (b >> 4)) + enc(((b & 15) << 2) | (c >> 6)) + enc(c & 63);
    }
    lines.push(line);
  }
  return lines;
}
