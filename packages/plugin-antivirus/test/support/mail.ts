/** Builds test messages: a text body and attachments, encoded as a mail client would. */
import { randomBytes } from 'node:crypto';

export interface Attachment {
  filename?: string;
  contentType?: string;
  content: Buffer | string;
  /** Default base64. */
  encoding?: 'base64' | '7bit' | 'quoted-printable';
  /** `message/rfc822` attachments are embedded as they are (a nested message). */
  inline?: boolean;
}

function base64Lines(b: Buffer): string {
  return (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export function mail(
  options: { subject?: string; body?: string; attachments?: readonly Attachment[]; from?: string } = {},
): string {
  const boundary = `----=_mef_${randomBytes(8).toString('hex')}`;
  const head = [
    `From: ${options.from ?? 'Alice <alice@example.test>'}`,
    'To: bob@example.test',
    `Subject: ${options.subject ?? 'test'}`,
    `Message-ID: <${randomBytes(6).toString('hex')}@example.test>`,
    'Date: Sat, 28 Nov 2026 01:00:00 +0000',
    'MIME-Version: 1.0',
  ];
  const body = options.body ?? `Hello Bob,\r\n\r\nsee attached. ${randomBytes(8).toString('hex')}\r\n`;
  if (!options.attachments?.length) {
    return [...head, 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n');
  }
  const parts = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', body];
  for (const a of options.attachments) {
    const content = typeof a.content === 'string' ? Buffer.from(a.content, 'latin1') : a.content;
    const type = a.contentType ?? 'application/octet-stream';
    parts.push(`--${boundary}`);
    if (type === 'message/rfc822') {
      parts.push(
        'Content-Type: message/rfc822',
        `Content-Disposition: ${a.inline ? 'inline' : 'attachment'}${a.filename ? `; filename="${a.filename}"` : ''}`,
        '',
        content.toString('latin1'),
      );
      continue;
    }
    const enc = a.encoding ?? 'base64';
    parts.push(
      `Content-Type: ${type}${a.filename ? `; name="${a.filename}"` : ''}`,
      `Content-Transfer-Encoding: ${enc}`,
      ...(a.filename ? [`Content-Disposition: attachment; filename="${a.filename}"`] : []),
      '',
      enc === 'base64' ? base64Lines(content) : content.toString('latin1'),
    );
  }
  parts.push(`--${boundary}--`, '');
  return [...head, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts].join('\r\n');
}
