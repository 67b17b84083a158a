/**
 * A small MIME reader for the SpamAssassin rule engine. Everything is a byte string (latin1,
 * one char per byte), as Perl sees SpamAssassin's text, so the rules' byte patterns
 * (`\xc3\xa9`) match the way they do in spamd. Bounded: nesting depth and part count are
 * capped, and each part's decoded text is cut at `maxPartBytes`.
 */

/** One header field: its name as written, the value after the colon with folds kept. */
export interface SaHeader {
  readonly name: string;
  readonly raw: string;
}

/** A leaf part of the message. */
export interface SaPart {
  /** Lower-case media type, `text/plain` when none was given. */
  readonly type: string;
  readonly charset: string | undefined;
  readonly headers: readonly SaHeader[];
  /** Transfer-decoded content, as bytes. */
  readonly decoded: string;
  /** The body as written (before transfer decoding). */
  readonly rawBody: string;
  readonly encoding: string;
  readonly filename: string | undefined;
}

/** A parsed message: the root header block and its leaf parts in order. */
export interface SaMime {
  readonly headers: readonly SaHeader[];
  readonly parts: readonly SaPart[];
  /** The root content type (lower-case). */
  readonly rootType: string;
  /** True when a boundary that was announced never closed. */
  readonly missingBoundary: boolean;
  /** True when text other than spaces and dots follows a closing boundary (an epilogue). */
  readonly epilogue: boolean;
}

interface WalkState {
  missingBoundary: boolean;
  epilogue: boolean;
  /** The leaf parts under each multipart/alternative, in document order (nested ones too). */
  alternatives: SaPart[][];
}

// Kept beside the parsed message, not in it, so the public SaMime shape does not change.
const alternativesOf = new WeakMap<SaMime, readonly (readonly SaPart[])[]>();

/** The leaf parts under each multipart/alternative of the message (MIMEEval's `find_parts`). */
export function alternativeGroups(mime: SaMime): readonly (readonly SaPart[])[] {
  return alternativesOf.get(mime) ?? [];
}

const MAX_DEPTH = 20;
const MAX_PARTS = 1000;

/** Splits a header block into fields; a line without a colon ends nothing, it is skipped. */
export function parseHeaderBlock(block: string): SaHeader[] {
  const out: SaHeader[] = [];
  const lines = block.split(/\r?\n/);
  let cur: { name: string; raw: string } | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && cur) {
      cur.raw += `\n${line}`;
      continue;
    }
    if (cur) out.push(cur);
    cur = undefined;
    const m = /^([^\x00-\x1f\x7f-\xff :]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (m) cur = { name: m[1] as string, raw: m[2] as string };
  }
  if (cur) out.push(cur);
  return out;
}

/** Splits a message (or a part) at its first empty line. */
export function splitHeaderBody(text: string): { header: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return /^[^\s:]+:/.test(text) ? { header: text, body: '' } : { header: '', body: text };
  return { header: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

/** The value of the first field named `name` (case-insensitive), unfolded. */
export function headerValue(headers: readonly SaHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  const h = headers.find((x) => x.name.toLowerCase() === lower);
  return h ? h.raw.replace(/\r?\n[ \t]+/g, ' ') : undefined;
}

/** A parameter of a structured header (`boundary`, `charset`, `name`). */
export function headerParam(value: string | undefined, param: string): string | undefined {
  if (!value) return undefined;
  const re = new RegExp(`(?:^|;)\\s*${param}\\*?\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s;]+))`, 'i');
  const m = re.exec(value);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

function mediaType(value: string | undefined): string {
  const m = value ? /^\s*([^\s;/]+\/[^\s;]+)/.exec(value) : null;
  return m ? (m[1] as string).toLowerCase() : 'text/plain';
}

const B64 = /[^A-Za-z0-9+/]/g;

/** Base64 to bytes, skipping anything that is not in the alphabet. */
export function decodeBase64(text: string): string {
  // The padding is stripped with the rest; Node decodes the last, unpadded quantum itself
  // (cutting it off lost the last one or two bytes of every part not a multiple of 3 long).
  const clean = text.replace(B64, '');
  return Buffer.from(clean, 'base64').toString('latin1');
}

/** Quoted-printable to bytes; soft line breaks joined. */
export function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/[ \t]+(\r?\n)/g, '$1')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function transferDecode(body: string, encoding: string): string {
  if (encoding === 'base64') return decodeBase64(body);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** Parses a whole message (a latin1 string of its bytes). */
export function parseMime(message: string, maxPartBytes: number): SaMime {
  const { header, body } = splitHeaderBody(message);
  const headers = parseHeaderBlock(header);
  const parts: SaPart[] = [];
  const state: WalkState = { missingBoundary: false, epilogue: false, alternatives: [] };
  walk(headers, body, 0, parts, maxPartBytes, state, []);
  const mime: SaMime = {
    headers,
    parts,
    rootType: mediaType(headerValue(headers, 'content-type')),
    missingBoundary: state.missingBoundary,
    epilogue: state.epilogue,
  };
  alternativesOf.set(mime, state.alternatives);
  return mime;
}

function walk(
  headers: readonly SaHeader[],
  body: string,
  depth: number,
  out: SaPart[],
  maxPartBytes: number,
  state: WalkState,
  groups: readonly SaPart[][],
): void {
  if (out.length >= MAX_PARTS) return;
  const ctype = headerValue(headers, 'content-type');
  const type = mediaType(ctype);
  const boundary = type.startsWith('multipart/') ? headerParam(ctype, 'boundary') : undefined;
  if (boundary && depth < MAX_DEPTH) {
    let inner = groups;
    if (type === 'multipart/alternative') {
      const group: SaPart[] = [];
      state.alternatives.push(group);
      inner = [...groups, group];
    }
    for (const child of splitMultipart(body, boundary, state)) {
      const split = splitHeaderBody(child);
      walk(parseHeaderBlock(split.header), split.body, depth + 1, out, maxPartBytes, state, inner);
    }
    return;
  }
  if (type === 'message/rfc822' && depth < MAX_DEPTH) {
    const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
    const inner = splitHeaderBody(transferDecode(body, encoding));
    walk(parseHeaderBlock(inner.header), inner.body, depth + 1, out, maxPartBytes, state, groups);
    return;
  }
  const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  const rawBody = body.length > maxPartBytes * 2 ? body.slice(0, maxPartBytes * 2) : body;
  let decoded = transferDecode(rawBody, encoding);
  if (decoded.length > maxPartBytes) decoded = decoded.slice(0, maxPartBytes);
  const disposition = headerValue(headers, 'content-disposition');
  const part: SaPart = {
    type,
    charset: headerParam(ctype, 'charset')?.toLowerCase(),
    headers,
    decoded,
    rawBody,
    encoding,
    filename: headerParam(disposition, 'filename') ?? headerParam(ctype, 'name'),
  };
  out.push(part);
  for (const g of groups) g.push(part);
}

function splitMultipart(body: string, boundary: string, state: WalkState): string[] {
  const delim = `--${boundary}`;
  const lines = body.split('\n');
  const parts: string[] = [];
  let cur: string[] | undefined;
  let closed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.startsWith(delim)) {
      const rest = l.slice(delim.length);
      if (rest.startsWith('--')) {
        if (cur) parts.push(cur.join('\n'));
        cur = undefined;
        closed = true;
        // Message.pm's epilogue test: a line after the closing boundary with more than spaces and dots.
        for (let j = i + 1; j < lines.length && !state.epilogue; j++)
          if (/[^\s.]/.test(lines[j] as string)) state.epilogue = true;
        break;
      }
      if (/^\s*$/.test(rest)) {
        if (cur) parts.push(cur.join('\n'));
        cur = [];
        continue;
      }
    }
    if (cur) cur.push(line);
  }
  if (cur) parts.push(cur.join('\n'));
  if (!closed) state.missingBoundary = true;
  return parts;
}
