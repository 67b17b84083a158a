/** What a stage must find, placed in each message shape by `shapes`. */
export interface ShapePayload {
  /** The detecting content (an EICAR file, a GTUBE text, a banned executable). */
  content: Buffer | string;
  /** File name of the part; omit for an inline body part. */
  filename?: string;
  /** Content type of the part. Default `application/octet-stream` with a file name, else `text/plain`. */
  contentType?: string;
  /** Extra root header fields (`Subject`, `From`, ...), as `Name: value` lines. */
  headers?: readonly string[];
}

/** The message shapes that once lost the findings of part handlers. */
export type ShapeName = 'wellFormed' | 'singlePart' | 'unterminatedMultipart' | 'cutMidLine';

const EOL = '\r\n';

function partHeaders(p: ShapePayload): string[] {
  const type = p.contentType ?? (p.filename ? 'application/octet-stream' : 'text/plain');
  const lines = [`Content-Type: ${type}${p.filename ? `; name="${p.filename}"` : '; charset=utf-8'}`];
  lines.push('Content-Transfer-Encoding: base64');
  if (p.filename) lines.push(`Content-Disposition: attachment; filename="${p.filename}"`);
  return lines;
}

function base64Lines(content: Buffer | string): string[] {
  const b = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return b.toString('base64').match(/.{1,76}/g) ?? [''];
}

/**
 * The same payload in each message shape a stage must handle: a well-formed multipart, a
 * single-part message (the payload is the whole body), a multipart with no closing
 * boundary, and one whose last part is cut mid-line (its last line has no line end and no
 * boundary follows). Run a stage over each and expect the same finding.
 */
export function shapes(payload: ShapePayload): Record<ShapeName, Buffer> {
  const root = [
    'From: Sender <sender@example.test>',
    'To: rcpt@example.test',
    'Date: Mon, 30 Nov 2026 10:00:00 +0000',
    'Message-ID: <shape@example.test>',
    'MIME-Version: 1.0',
    ...(payload.headers ?? ['Subject: Shapes']),
  ];
  const boundary = 'shape-boundary-42';
  const multipartHead = [...root, `Content-Type: multipart/mixed; boundary="${boundary}"`, ''];
  const textPart = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', 'Please see the attached file.'];
  const payloadPart = [`--${boundary}`, ...partHeaders(payload), '', ...base64Lines(payload.content)];
  const join = (lines: string[]) => Buffer.from(lines.join(EOL), 'utf8');
  return {
    wellFormed: join([...multipartHead, ...textPart, ...payloadPart, `--${boundary}--`, '']),
    singlePart: join([...root, ...partHeaders(payload), '', ...base64Lines(payload.content), '']),
    unterminatedMultipart: join([...multipartHead, ...textPart, ...payloadPart, '']),
    cutMidLine: join([...multipartHead, ...textPart, ...payloadPart]),
  };
}
