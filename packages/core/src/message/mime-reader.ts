/**
 * A second MIME reader over a message held in memory, with a policy for every point where mail
 * clients part ways: which of two fields or parameters counts, whether comments, quotes and
 * RFC 2231 continuations are honoured, which file name wins, and whether a body that looks like
 * base64 is decoded though its header says otherwise. It runs only on a message found
 * ambiguous; a well-formed message is read once, by the splitter.
 */
import { type AmbiguityKind, headerAmbiguity, normalName } from './ambiguity.js';
import { extractEmbedded } from './embedded.js';
import { parseValue, pick, type ReadPolicy, stripComments } from './mime-params.js';

export type { ReadPolicy } from './mime-params.js';

/** One leaf of a reading, decoded. */
export interface ReadLeaf {
  /** Part id inside the reading (`1.2`, `2.1` inside an opened message, `1:uu1` for a uuencoded file). */
  readonly path: string;
  readonly depth: number;
  readonly contentType: string;
  readonly charset: string | undefined;
  readonly filename: string | undefined;
  readonly disposition: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly headers: Buffer;
  readonly content: Buffer;
}

/** Bounds of one reading. */
export interface ReadLimits {
  readonly maxDepth: number;
  readonly maxParts: number;
  /** Most decoded bytes over all leaves. */
  readonly maxBytes: number;
}

interface Field {
  readonly name: string;
  readonly value: string;
}

function headerEnd(buf: Buffer): { head: Buffer; body: Buffer } {
  if (buf.length === 0) return { head: buf, body: buf };
  if (buf[0] === 0x0a) return { head: buf.subarray(0, 0), body: buf.subarray(1) };
  if (buf[0] === 0x0d && buf[1] === 0x0a) return { head: buf.subarray(0, 0), body: buf.subarray(2) };
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf))
    return { head: buf.subarray(0, crlf + 2), body: buf.subarray(crlf + 4) };
  if (lf !== -1) return { head: buf.subarray(0, lf + 1), body: buf.subarray(lf + 2) };
  return { head: buf, body: buf.subarray(buf.length) };
}

function parseFields(head: Buffer, policy: ReadPolicy): Field[] {
  const fields: Field[] = [];
  const lines = head.toString('latin1').split(/\r?\n/);
  for (const line of lines) {
    if (/^[ \t]/.test(line) && fields.length) {
      const last = fields.pop() as Field;
      fields.push({ name: last.name, value: `${last.value} ${line.trim()}` });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).toLowerCase();
    if (policy.looseNames) name = name.replace(/\([^)]*\)/g, '').trim();
    fields.push({ name, value: line.slice(colon + 1).trim() });
  }
  return fields;
}

/** Decodes quoted-printable. */
export function decodeQp(body: Buffer): Buffer {
  const s = body.toString('latin1').replace(/=\r?\n/g, '');
  const out = Buffer.alloc(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out[n++] = Number.parseInt(s.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** True when a body is base64 by its look: nothing but the alphabet and line breaks, in lines. */
export function looksBase64(body: Buffer): boolean {
  const s = body.subarray(0, 4096).toString('latin1').trim();
  return (
    s.length >= 16 &&
    /^[A-Za-z0-9+/]+=*(?:\r?\n[A-Za-z0-9+/]*=*)*$/.test(s) &&
    /[A-Z]/.test(s) &&
    /[a-z0-9]/.test(s)
  );
}

/** Splits a multipart body at its delimiter lines; the preamble is dropped. */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const starts: { at: number; next: number; close: boolean }[] = [];
  let from = 0;
  while (from <= body.length) {
    const i = body.indexOf(delim, from);
    if (i === -1) break;
    from = i + delim.length;
    if (i !== 0 && body[i - 1] !== 0x0a) continue;
    let j = i + delim.length;
    const close = body[j] === 0x2d && body[j + 1] === 0x2d;
    if (close) j += 2;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (j < body.length && body[j] !== 0x0d && body[j] !== 0x0a) continue;
    const eol = body.indexOf(0x0a, j);
    starts.push({ at: i, next: eol === -1 ? body.length : eol + 1, close });
    if (close) break;
  }
  const parts: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k] as { at: number; next: number; close: boolean };
    if (s.close) break;
    const nextStart = starts[k + 1];
    let end = nextStart ? nextStart.at : body.length;
    // The line break before a delimiter belongs to the delimiter.
    if (nextStart) {
      if (body[end - 1] === 0x0a) end--;
      if (body[end - 1] === 0x0d) end--;
    }
    parts.push(body.subarray(s.next, Math.max(s.next, end)));
  }
  return parts;
}

interface ReadState {
  parts: number;
  bytes: number;
  readonly leaves: ReadLeaf[];
  /** Ambiguity kinds of the header blocks read (also inside opened messages). */
  readonly kinds: Set<AmbiguityKind>;
  /** The limits the reading met: what lies past them was not read. */
  readonly limited: Set<'depth' | 'parts'>;
}

/**
 * Decodes base64 as a forgiving client does: characters outside the alphabet are skipped, and
 * each run between padding is decoded on its own (data after a `=` is read, not dropped).
 */
export function decodeBase64(body: Buffer): Buffer {
  const clean = body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, '');
  const runs = clean.split(/=+/).filter((r) => r.length > 1);
  return runs.length === 1
    ? Buffer.from(runs[0] as string, 'base64')
    : Buffer.concat(runs.map((r) => Buffer.from(r, 'base64')));
}

function decodeBody(body: Buffer, encoding: string, policy: ReadPolicy, attachmentLike: boolean): Buffer {
  if (encoding === 'base64') return decodeBase64(body);
  if (encoding === 'quoted-printable') return decodeQp(body);
  if (policy.sniffBase64 && attachmentLike && looksBase64(body))
    return Buffer.from(body.toString('latin1'), 'base64');
  return body;
}

function readNode(
  buf: Buffer,
  path: string,
  depth: number,
  policy: ReadPolicy,
  limits: ReadLimits,
  st: ReadState,
): void {
  if (depth > limits.maxDepth) {
    st.limited.add('depth');
    return;
  }
  if (st.parts >= limits.maxParts) {
    st.limited.add('parts');
    return;
  }
  if (st.bytes >= limits.maxBytes) return;
  st.parts++;
  const { head, body } = headerEnd(buf);
  for (const k of headerAmbiguity(head)) st.kinds.add(k);
  const fields = parseFields(head, policy);
  const get = (name: string) =>
    pick(
      fields.filter((f) => f.name === name),
      policy.field,
    )?.value;
  const ct = parseValue(get('content-type') ?? '', policy);
  const cd = parseValue(get('content-disposition') ?? '', policy);
  const cte = (
    policy.comments
      ? stripComments(get('content-transfer-encoding') ?? '')
      : (get('content-transfer-encoding') ?? '')
  )
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  const type = ct.value.includes('/') ? ct.value : 'text/plain';
  const boundary = ct.params.get('boundary');
  if (type.startsWith('multipart/') && boundary) {
    let i = 0;
    for (const part of splitMultipart(body, boundary)) {
      i++;
      readNode(part, path ? `${path}.${i}` : String(i), depth + 1, policy, limits, st);
    }
    return;
  }
  const byDisposition = cd.params.get('filename');
  const byType = ct.params.get('name');
  const chosen = policy.filename === 'disposition' ? (byDisposition ?? byType) : (byType ?? byDisposition);
  const filename = chosen === undefined ? undefined : normalName(chosen);
  const disposition = cd.value || undefined;
  const attachmentLike = Boolean(filename) || disposition === 'attachment' || !type.startsWith('text/');
  const content = decodeBody(body, cte, policy, attachmentLike).subarray(
    0,
    Math.max(0, limits.maxBytes - st.bytes),
  );
  st.bytes += content.length;
  const id = path || '1';
  if (type === 'message/rfc822') {
    // An attached message is opened, whatever its disposition and encoding; at the depth limit
    // it is offered whole (a scanner may still open it) and the limit is told.
    if (depth < limits.maxDepth) {
      readNode(content, id, depth + 1, policy, limits, st);
      return;
    }
    st.limited.add('depth');
  }
  st.leaves.push({
    path: id,
    depth,
    contentType: type,
    charset: ct.params.get('charset'),
    filename,
    disposition,
    transferEncoding: cte || undefined,
    headers: head,
    content,
  });
  if (type.startsWith('text/')) {
    let n = 0;
    for (const f of extractEmbedded(content)) {
      n++;
      st.leaves.push({
        path: `${id}:${f.kind === 'yenc' ? 'yenc' : 'uu'}${n}`,
        depth: depth + 1,
        contentType: 'application/octet-stream',
        charset: undefined,
        filename: f.filename,
        disposition: 'attachment',
        transferEncoding: f.kind,
        headers: Buffer.alloc(0),
        content: f.content,
      });
    }
  }
}

/**
 * Reads a whole message under one policy: its leaves, decoded, within the limits, the
 * ambiguity kinds met, and the limits that left something unread (`depth`, `parts`).
 */
export function readMessage(
  message: Buffer,
  policy: ReadPolicy,
  limits: ReadLimits,
): { leaves: ReadLeaf[]; kinds: Set<AmbiguityKind>; limited: Set<'depth' | 'parts'> } {
  const st: ReadState = { parts: 0, bytes: 0, leaves: [], kinds: new Set(), limited: new Set() };
  readNode(message, '', 0, policy, limits, st);
  return { leaves: st.leaves, kinds: st.kinds, limited: st.limited };
}
