/**
 * Finds the places where a MIME header block can be read more than one way. Called on every
 * node's header block as the splitter goes; cheap (a few scans of the Content-* fields), and
 * a well-formed block gives nothing.
 */
import libmime from 'libmime';
import { parseValue, type ReadPolicy } from './mime-params.js';

/** The ways a message can be read more than one way. */
export type AmbiguityKind =
  /** Two `boundary` parameters in one Content-Type. */
  | 'duplicate-boundary'
  /** Two Content-Type, Content-Disposition or Content-Transfer-Encoding fields in one header block. */
  | 'duplicate-field'
  /** A boundary in RFC 2231 continuations, or with quotes, semicolons or comments in it. */
  | 'boundary-syntax'
  /** Comments or odd whitespace inside a Content-* field name or value. */
  | 'header-syntax'
  /**
   * The file names of a part disagree: the Content-Disposition file name and the Content-Type
   * name, or two values of one of them.
   */
  | 'filename-mismatch'
  /** A missing or wrong transfer encoding on a part whose body is base64. */
  | 'encoding-mismatch';

/** Reads a parameter's RFC 2231 value when it has one (it comes after the plain ones, and the last counts). */
const EXTENDED: ReadPolicy = {
  name: 'extended',
  field: 'first',
  param: 'last',
  comments: true,
  rfc2231: true,
  quotes: true,
  looseNames: true,
  filename: 'disposition',
  sniffBase64: false,
};

const CONTENT_FIELD = /^content-(?:type|disposition|transfer-encoding)\b/i;

interface RawField {
  readonly name: string;
  /** The name as written, before the colon (blanks and comments kept). */
  readonly rawName: string;
  readonly value: string;
}

function contentFields(head: string): RawField[] {
  const out: RawField[] = [];
  let cur: { rawName: string; value: string } | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (cur) cur.value += ` ${line.trim()}`;
      continue;
    }
    if (cur)
      out.push({
        name: cur.rawName
          .replace(/\([^)]*\)/g, '')
          .trim()
          .toLowerCase(),
        ...cur,
      });
    cur = undefined;
    const colon = line.indexOf(':');
    if (colon > 0 && CONTENT_FIELD.test(line.trimStart()))
      cur = { rawName: line.slice(0, colon), value: line.slice(colon + 1) };
  }
  if (cur)
    out.push({
      name: cur.rawName
        .replace(/\([^)]*\)/g, '')
        .trim()
        .toLowerCase(),
      ...cur,
    });
  return out;
}

function param(value: string, name: string): string[] {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|[^;\\s]*)`, 'gi');
  return [...value.matchAll(re)].map((m) => (m[1] as string).replace(/^"(.*)"$/, '$1'));
}

/** A file name as a client shows it: encoded words and RFC 2231 percent-encoding decoded. */
export function normalName(v: string): string {
  let s = v;
  const ext = /^[^']*'[^']*'(.*)$/.exec(s);
  if (ext) {
    try {
      s = decodeURIComponent(ext[1] as string);
    } catch {
      s = ext[1] as string;
    }
  }
  if (s.includes('=?')) {
    try {
      s = libmime.decodeWords(s);
    } catch {
      // an unknown charset: compare as written
    }
  }
  return s.trim();
}

/** The ambiguity kinds of one header block (empty for a well-formed one). */
export function headerAmbiguity(head: Buffer): AmbiguityKind[] {
  // Only blocks that name a Content-* field need a look.
  if (head.indexOf('ontent-') === -1 && head.indexOf('ONTENT-') === -1) return [];
  const fields = contentFields(head.toString('latin1'));
  const kinds = new Set<AmbiguityKind>();
  const count = new Map<string, number>();
  for (const f of fields) {
    count.set(f.name, (count.get(f.name) ?? 0) + 1);
    if (f.rawName !== f.rawName.trim() || /[()\s]/.test(f.rawName)) kinds.add('header-syntax');
    const v = f.value;
    if (f.name === 'content-type') {
      const b = param(v, 'boundary');
      if (b.length > 1) kinds.add('duplicate-boundary');
      if (/;\s*boundary\*/i.test(v)) kinds.add('boundary-syntax');
      for (const x of b) if (/["();\\]/.test(x)) kinds.add('boundary-syntax');
      const raw = /;\s*boundary\s*=\s*("(?:[^"\\]|\\.)*"[^;]*|[^;]*)/i.exec(v)?.[1]?.trim() ?? '';
      // Text after a quoted value (a reader may stop its scan there), a comment, or a blank in
      // an unquoted value (Thunderbird ends the value at the blank).
      if (/^"(?:[^"\\]|\\.)*"\s*[^\s;]/.test(raw) || /\(/.test(raw) || /^[^"]\S*\s/.test(raw))
        kinds.add('boundary-syntax');
    }
    if (f.name === 'content-type' || f.name === 'content-disposition') {
      // A `,` before the first `;`: Thunderbird reads it as the `;`.
      if ((v.split(';')[0] ?? '').includes(',')) kinds.add('header-syntax');
      // An unquoted file name with a blank in it: Thunderbird ends it at the blank.
      if (/;\s*(?:file)?name\s*=\s*[^"\s;][^;]*?\s+[^\s;]/i.test(v)) kinds.add('header-syntax');
    }
    if (/\(/.test(v.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) kinds.add('header-syntax');
  }
  for (const [name, n] of count) if (n > 1 && CONTENT_FIELD.test(name)) kinds.add('duplicate-field');
  const type = fields.find((f) => f.name === 'content-type')?.value ?? '';
  const disp = fields.find((f) => f.name === 'content-disposition')?.value ?? '';
  const names = param(type, 'name');
  const filenames = param(disp, 'filename');
  const name = names[0] ?? param(type, 'name\\*0?\\*?')[0];
  const filename = filenames[0] ?? param(disp, 'filename\\*0?\\*?')[0];
  if (name !== undefined && filename !== undefined && normalName(name) !== normalName(filename))
    kinds.add('filename-mismatch');
  // Two plain values of one name parameter that differ: readers take the first or the last.
  for (const list of [names, filenames])
    if (new Set(list.map(normalName)).size > 1) kinds.add('filename-mismatch');
  // A plain value beside an RFC 2231 one (`filename*=`, `filename*0=`) that differs: a reader
  // without RFC 2231 shows the plain one, the others the extended one.
  for (const [value, key, plain] of [
    [type, 'name', names[0]],
    [disp, 'filename', filenames[0]],
  ] as const) {
    if (plain === undefined || !new RegExp(`;\\s*${key}\\*`, 'i').test(value)) continue;
    const extended = parseValue(value, EXTENDED).params.get(key);
    if (extended !== undefined && normalName(extended) !== normalName(plain)) kinds.add('filename-mismatch');
  }
  return [...kinds];
}
