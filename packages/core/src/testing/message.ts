import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** A message for a test: bytes, or a stream factory (so a test can feed it more than once). */
export type MessageSource = Buffer | (() => Readable);

/** Ways to get a message into a test. */
export const messageFrom = {
  /** From a string (line ends are kept as written). */
  string(text: string): Buffer {
    return Buffer.from(text, 'utf8');
  },
  /** From bytes. */
  buffer(bytes: Buffer | Uint8Array): Buffer {
    return Buffer.from(bytes);
  },
  /** From an `.eml` file, read whole (for small fixtures). */
  file(path: string): Promise<Buffer> {
    return readFile(path);
  },
  /** From an `.eml` file, streamed each time it is fed (for large fixtures). */
  fileStream(path: string): () => Readable {
    return () => createReadStream(path);
  },
};

/** An attachment for `buildMessage`. */
export interface BuildAttachment {
  filename?: string;
  contentType?: string;
  content: Buffer | string;
  /** Transfer encoding: base64 (default), quoted-printable, 7bit. */
  encoding?: 'base64' | 'quoted-printable' | '7bit';
  disposition?: 'attachment' | 'inline';
}

/** What `buildMessage` makes. */
export interface BuildOptions {
  from?: string;
  to?: string | string[];
  subject?: string;
  date?: string;
  messageId?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: BuildAttachment[];
  /** Line end; default CRLF. */
  eol?: '\r\n' | '\n';
}

function encodeBody(content: Buffer, encoding: string, eol: string): string {
  if (encoding === 'base64') return (content.toString('base64').match(/.{1,76}/g) ?? ['']).join(eol);
  if (encoding === 'quoted-printable') {
    const text = content
      .toString('latin1')
      .replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return text
      .split(/\r?\n/)
      .map((line) => (line.match(/.{1,73}/g) ?? ['']).join(`=${eol}`))
      .join(eol);
  }
  return content.toString('latin1').replace(/\r?\n/g, eol);
}

let seq = 0;

/**
 * Builds a MIME message: text and/or HTML (multipart/alternative when both), with
 * attachments (multipart/mixed). Deterministic boundaries, so the bytes are stable.
 */
export function buildMessage(o: BuildOptions = {}): Buffer {
  const eol = o.eol ?? '\r\n';
  const n = ++seq;
  const head: string[] = [
    `From: ${o.from ?? 'Sender <sender@example.test>'}`,
    `To: ${Array.isArray(o.to) ? o.to.join(', ') : (o.to ?? 'rcpt@example.test')}`,
    `Subject: ${o.subject ?? 'Test message'}`,
    `Date: ${o.date ?? 'Thu, 26 Nov 2026 10:00:00 +0000'}`,
    `Message-ID: ${o.messageId ?? `<test-${n}@example.test>`}`,
    'MIME-Version: 1.0',
  ];
  for (const [k, v] of Object.entries(o.headers ?? {})) head.push(`${k}: ${v}`);

  const textPart = (type: 'plain' | 'html', body: string) =>
    [
      `Content-Type: text/${type}; charset=utf-8`,
      'Content-Transfer-Encoding: quoted-printable',
      '',
      encodeBody(Buffer.from(body, 'utf8'), 'quoted-printable', eol),
    ].join(eol);
  let body: string;
  const alt = `alt-${n}-boundary`;
  if (o.text !== undefined && o.html !== undefined) {
    body = [
      `Content-Type: multipart/alternative; boundary="${alt}"`,
      '',
      `--${alt}`,
      textPart('plain', o.text),
      `--${alt}`,
      textPart('html', o.html),
      `--${alt}--`,
    ].join(eol);
  } else if (o.html !== undefined) body = textPart('html', o.html);
  else body = textPart('plain', o.text ?? 'Hello.');

  if (o.attachments?.length) {
    const mixed = `mixed-${n}-boundary`;
    const parts = [body];
    for (const a of o.attachments) {
      const enc = a.encoding ?? 'base64';
      const content = typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : a.content;
      const lines = [
        `Content-Type: ${a.contentType ?? 'application/octet-stream'}${a.filename ? `; name="${a.filename}"` : ''}`,
        `Content-Transfer-Encoding: ${enc}`,
      ];
      lines.push(
        `Content-Disposition: ${a.disposition ?? 'attachment'}${a.filename ? `; filename="${a.filename}"` : ''}`,
      );
      lines.push('', encodeBody(content, enc, eol));
      parts.push(lines.join(eol));
    }
    const out = [
      ...head,
      `Content-Type: multipart/mixed; boundary="${mixed}"`,
      '',
      'This is a multi-part message in MIME format.',
      ...parts.flatMap((p) => [`--${mixed}`, p]),
      `--${mixed}--`,
      '',
    ];
    return Buffer.from(out.join(eol), 'utf8');
  }
  return Buffer.from([...head, body, ''].join(eol), 'utf8');
}
