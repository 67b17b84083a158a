/**
 * Messages that hide a payload from one MIME reading: each case puts the payload where a
 * reader that resolves the ambiguity one way sees it, and the splitter (first field, first
 * parameter, comments stripped) sees something harmless. Built at run time.
 */

export interface Payload {
  readonly filename: string;
  readonly content: Buffer;
}

export interface Evasion {
  /** What the case does. */
  readonly name: string;
  /** The ambiguity kind the pipeline should report, when the case is an ambiguity (not a container). */
  readonly kind: string | undefined;
  /** The message (bytes: yEnc is 8-bit). */
  readonly message: Buffer;
}

export const HEAD = [
  'From: Mallory <mallory@example.test>',
  'To: bob@example.test',
  'Subject: invoice',
  'Message-ID: <evasion@example.test>',
  'Date: Sat, 28 Nov 2026 01:00:00 +0000',
  'MIME-Version: 1.0',
].join('\r\n');

const b64 = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');

export function attachment(p: Payload, extra: readonly string[] = []): string {
  return [
    `Content-Type: application/octet-stream; name="${p.filename}"`,
    `Content-Disposition: attachment; filename="${p.filename}"`,
    'Content-Transfer-Encoding: base64',
    ...extra,
    '',
    b64(p.content),
  ].join('\r\n');
}

/** Two layers: `outer` delimits a harmless text part, `inner` the payload inside it. */
function layered(contentType: string, outer: string, inner: string, p: Payload): string {
  return twoLayers([`Content-Type: ${contentType}`], outer, inner, p);
}

/** The header fields given, then `outer` around a harmless text part and `inner` around the payload inside it. */
export function twoLayers(fields: readonly string[], outer: string, inner: string, p: Payload): string {
  return [
    HEAD,
    ...fields,
    '',
    `--${outer}`,
    'Content-Type: text/plain',
    '',
    'Nothing to see here.',
    `--${inner}`,
    attachment(p),
    `--${inner}--`,
    `--${outer}--`,
    '',
  ].join('\r\n');
}

function single(headers: readonly string[], body: string): string {
  return [
    HEAD,
    'Content-Type: multipart/mixed; boundary="B"',
    '',
    '--B',
    'Content-Type: text/plain',
    '',
    'Hello.',
    '--B',
    ...headers,
    '',
    body,
    '--B--',
    '',
  ].join('\r\n');
}

/** uuencoded lines of `data`, joined with CRLF (no begin or end line). */
export function uuencode(data: Buffer): string {
  const enc = (n: number) => String.fromCharCode(n === 0 ? 96 : n + 32);
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 45) {
    const chunk = data.subarray(i, i + 45);
    let line = enc(chunk.length);
    for (let j = 0; j < chunk.length; j += 3) {
      const a = chunk[j] ?? 0;
      const b = chunk[j + 1] ?? 0;
      const c = chunk[j + 2] ?? 0;
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (c >> 6)) & 63) + enc(c & 63);
    }
    lines.push(line);
  }
  return lines.join('\r\n');
}

/** The yEnc encoding of `data` on one line (no =ybegin or =yend line). */
export function yencode(data: Buffer): string {
  let out = '';
  for (const byte of data) {
    const c = (byte + 42) & 0xff;
    out += [0, 10, 13, 61].includes(c) ? `=${String.fromCharCode((c + 64) & 0xff)}` : String.fromCharCode(c);
  }
  return out;
}

/** `head`, then the header fields given, then the payload as the one part delimited by `IN`. */
function onePart(head: string, fields: readonly string[], p: Payload): string {
  return [head, ...fields, '', '--IN', attachment(p), '--IN--', ''].join('\r\n');
}

/** Every evasion case, for one payload. */
export function evasions(p: Payload): Evasion[] {
  return cases(p).map((c) => ({ ...c, message: Buffer.from(c.message, 'latin1') }));
}

function cases(p: Payload): Array<{ name: string; kind: string | undefined; message: string }> {
  const inner = onePart(
    HEAD.replace('invoice', 'forwarded'),
    ['Content-Type: multipart/mixed; boundary="IN"'],
    p,
  );
  return [
    {
      name: 'two boundary parameters',
      kind: 'duplicate-boundary',
      message: layered('multipart/mixed; boundary="OUT"; boundary="IN"', 'OUT', 'IN', p),
    },
    {
      name: 'two Content-Type fields',
      kind: 'duplicate-field',
      message: onePart(HEAD, ['Content-Type: text/plain', 'Content-Type: multipart/mixed; boundary="IN"'], p),
    },
    {
      name: 'two Content-Transfer-Encoding fields',
      kind: 'duplicate-field',
      message: single(
        [
          `Content-Type: application/octet-stream; name="${p.filename}"`,
          `Content-Disposition: attachment; filename="${p.filename}"`,
          'Content-Transfer-Encoding: 7bit',
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'two Content-Disposition fields',
      kind: 'duplicate-field',
      message: single(
        [
          'Content-Type: application/octet-stream',
          'Content-Disposition: inline; filename="notes.txt"',
          `Content-Disposition: attachment; filename="${p.filename}"`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'boundary in RFC 2231 continuations beside a plain one',
      kind: 'boundary-syntax',
      message: layered('multipart/mixed; boundary="OUT"; boundary*0="I"; boundary*1="N"', 'OUT', 'IN', p),
    },
    {
      name: 'boundary with a semicolon in quotes',
      kind: 'boundary-syntax',
      message: layered('multipart/mixed; boundary="OUT;x"', 'OUT;x', '"OUT', p),
    },
    {
      name: 'boundary with a comment',
      kind: 'boundary-syntax',
      message: layered('multipart/mixed; boundary=IN(OUT)', 'IN(OUT)', 'IN', p),
    },
    {
      name: 'blank before the colon of a second Content-Type',
      kind: 'header-syntax',
      message: onePart(
        HEAD,
        ['Content-Type: text/plain', 'Content-Type\t: multipart/mixed; boundary="IN"'],
        p,
      ),
    },
    {
      name: 'file name in Content-Type only, a harmless one in Content-Disposition',
      kind: 'filename-mismatch',
      message: single(
        [
          `Content-Type: application/octet-stream; name="${p.filename}"`,
          'Content-Disposition: attachment; filename="report.pdf"',
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'file name in Content-Disposition only, a harmless name in Content-Type',
      kind: 'filename-mismatch',
      message: single(
        [
          'Content-Type: application/octet-stream; name="report.pdf"',
          `Content-Disposition: attachment; filename="${p.filename}"`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'two filename parameters, a harmless one first',
      kind: 'filename-mismatch',
      message: single(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment; filename="report.pdf"; filename="${p.filename}"`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'two name parameters, a harmless one first',
      kind: 'filename-mismatch',
      message: single(
        [
          `Content-Type: application/octet-stream; name="report.pdf"; name="${p.filename}"`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'a plain file name beside a harmless RFC 2231 one (a reader without RFC 2231 shows the plain one)',
      kind: 'filename-mismatch',
      message: single(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment; filename="${p.filename}"; filename*=us-ascii''report.pdf`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'an unquoted file name with a blank (Thunderbird ends it at the blank)',
      kind: 'header-syntax',
      message: single(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment; filename=${p.filename} report.pdf`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'a comma for the first semicolon of Content-Disposition (Thunderbird reads it as one)',
      kind: 'header-syntax',
      message: single(
        [
          'Content-Type: application/octet-stream',
          `Content-Disposition: attachment, filename="${p.filename}"`,
          'Content-Transfer-Encoding: base64',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'comment in the name of a second Content-Type field',
      kind: 'header-syntax',
      message: onePart(
        HEAD,
        ['Content-Type: text/plain', 'Content-Type(x): multipart/mixed; boundary="IN"'],
        p,
      ),
    },
    {
      name: 'comment in the Content-Transfer-Encoding value',
      kind: 'header-syntax',
      message: single(
        [
          `Content-Type: application/octet-stream; name="${p.filename}"`,
          'Content-Disposition: attachment',
          'Content-Transfer-Encoding: base64 (7bit)',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'base64 body without a transfer encoding',
      kind: 'encoding-mismatch',
      message: single(
        [`Content-Type: application/octet-stream; name="${p.filename}"`, 'Content-Disposition: attachment'],
        b64(p.content),
      ),
    },
    {
      name: 'base64 body under a quoted transfer encoding',
      kind: 'encoding-mismatch',
      message: single(
        [
          `Content-Type: application/octet-stream; name="${p.filename}"`,
          'Content-Disposition: attachment',
          'Content-Transfer-Encoding: "base64"',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'base64 body under a wrong transfer encoding (7bit)',
      kind: 'encoding-mismatch',
      message: single(
        [
          `Content-Type: application/octet-stream; name="${p.filename}"`,
          'Content-Disposition: attachment',
          'Content-Transfer-Encoding: 7bit',
        ],
        b64(p.content),
      ),
    },
    {
      name: 'base64 with stray characters and broken line lengths',
      kind: undefined,
      message: single(
        [`Content-Type: application/octet-stream; name="${p.filename}"`, 'Content-Transfer-Encoding: base64'],
        p.content
          .toString('base64')
          .replace(/(.{1,7})(.{1,13})?/g, '$1*$2\r\n')
          .replace(/\r\n$/, ''),
      ),
    },
    {
      name: 'uuencoded file in the text body',
      kind: undefined,
      message: [
        HEAD,
        'Content-Type: text/plain',
        '',
        'See below.',
        `begin 644 ${p.filename}`,
        uuencode(p.content),
        '`',
        'end',
        '',
      ].join('\r\n'),
    },
    {
      name: 'yEnc file in the text body',
      kind: undefined,
      message: [
        HEAD,
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: 8bit',
        '',
        'See below.',
        `=ybegin line=128 size=${p.content.length} name=${p.filename}`,
        yencode(p.content),
        `=yend size=${p.content.length}`,
        '',
      ].join('\r\n'),
    },
    {
      name: 'attached message (disposition attachment)',
      kind: undefined,
      message: single(
        ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="fwd.eml"'],
        inner,
      ),
    },
    {
      name: 'attached message in base64',
      kind: undefined,
      message: single(
        ['Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64'],
        b64(Buffer.from(inner)),
      ),
    },
  ];
}
