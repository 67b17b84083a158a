import { MilterError } from './errors.js';
import type { Frame } from './protocol.js';

/** Default largest frame accepted: a 1 MiB body chunk (Postfix sends at most 64 KiB) plus room. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024 + 1024;

/**
 * Cuts a byte stream into milter frames: a 4-byte big-endian length (counting the command
 * byte), the command byte, the payload. Bytes may arrive split anywhere or with several
 * frames in one read; at most one frame plus one read is held in memory.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being gathered, once its 4 length bytes are in (1-byte reads stay linear). */
  private expected = -1;

  constructor(private readonly maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE) {}

  /** Bytes held that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds bytes; returns every frame now complete. Throws a `MilterError` on a bad length. */
  push(bytes: Buffer): Frame[] {
    if (bytes.length) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
    }
    const frames: Frame[] = [];
    while (this.buffered >= 4) {
      const length = this.expected >= 0 ? this.expected : this.peek4().readUInt32BE(0);
      if (length === 0) throw new MilterError('MEF_MILTER_PROTOCOL', 'frame of length 0 (no command byte)');
      if (length > this.maxFrameSize) {
        throw new MilterError(
          'MEF_MILTER_FRAME_TOO_LARGE',
          `frame of ${length} bytes is larger than the limit of ${this.maxFrameSize}`,
        );
      }
      if (this.buffered < 4 + length) {
        this.expected = length;
        break;
      }
      this.expected = -1;
      const whole = this.take(4 + length);
      frames.push({ command: String.fromCharCode(whole[4] as number), data: whole.subarray(5) });
    }
    return frames;
  }

  private peek4(): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first;
    const head: Buffer[] = [];
    let have = 0;
    for (const c of this.chunks) {
      head.push(c);
      have += c.length;
      if (have >= 4) break;
    }
    return Buffer.concat(head, have);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}

/** Encodes one frame. */
export function encodeFrame(command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out.writeUInt32BE(1 + data.length, 0);
  out[4] = command.charCodeAt(0);
  data.copy(out, 5);
  return out;
}

/** NUL-terminated strings, as in MAIL/RCPT arguments, macros and headers. */
export function splitStrings(data: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) {
      out.push(data.toString('latin1', start, i));
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.toString('latin1', start));
  return out;
}

/** True when a HEADER payload's name is `Subject` (any case). */
export function isSubject(data: Buffer): boolean {
  return data[7] === 0 && data.toString('latin1', 0, 7).toLowerCase() === 'subject';
}

/**
 * A HEADER payload (name NUL value NUL) as the field's bytes, `Name: value` CRLF (no space added
 * when the MTA keeps the leading space, `leadSpace`). Folded lines may come with bare LF: the
 * message the stages see uses CRLF throughout.
 */
export function headerField(data: Buffer, leadSpace: boolean): Buffer {
  const nul = data.indexOf(0);
  const nameEnd = nul < 0 ? data.length : nul;
  const valueNul = nul < 0 ? -1 : data.indexOf(0, nul + 1);
  const valueStart = nul < 0 ? data.length : nul + 1;
  const valueEnd = valueNul < 0 ? data.length : valueNul;
  const lf = data.indexOf(0x0a);
  if (lf >= 0 && lf < valueEnd) {
    const [name = '', value = ''] = splitStrings(data);
    const text = `${name}:${leadSpace ? '' : ' '}${value}`.replace(/\r?\n/g, '\r\n');
    return Buffer.from(`${text}\r\n`, 'latin1');
  }
  // The common case, one line: the bytes copied as they are, no string made.
  const gap = leadSpace ? 1 : 2;
  const out = Buffer.allocUnsafe(nameEnd + gap + (valueEnd - valueStart) + 2);
  data.copy(out, 0, 0, nameEnd);
  out[nameEnd] = 0x3a;
  if (!leadSpace) out[nameEnd + 1] = 0x20;
  data.copy(out, nameEnd + gap, valueStart, valueEnd);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

/** Encodes strings, each NUL-terminated. */
export function joinStrings(...parts: string[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => [Buffer.from(p, 'latin1'), Buffer.alloc(1)]));
}

/** The CONNECT payload: host name, address family, port and address. */
export interface ConnectInfo {
  readonly hostname: string;
  /** `4`, `6`, `L` (unix socket) or `U` (unknown). */
  readonly family: string;
  readonly port: number;
  readonly address: string;
}

/** Parses a CONNECT payload; throws a `MilterError` when it is malformed. */
export function parseConnect(data: Buffer): ConnectInfo {
  const nul = data.indexOf(0);
  if (nul < 0 || nul + 1 >= data.length) {
    throw new MilterError('MEF_MILTER_PROTOCOL', 'CONNECT without a host name and an address family');
  }
  const hostname = data.toString('latin1', 0, nul);
  const family = String.fromCharCode(data[nul + 1] as number);
  if (family === 'U') return { hostname, family, port: 0, address: '' };
  if (!'46L'.includes(family) || data.length < nul + 4) {
    throw new MilterError(
      'MEF_MILTER_PROTOCOL',
      `CONNECT with an unknown address family ${JSON.stringify(family)}`,
    );
  }
  const port = data.readUInt16BE(nul + 2);
  const address = splitStrings(data.subarray(nul + 4))[0] ?? '';
  return { hostname, family, port, address };
}

/** Parses an OPTNEG payload: version, actions, protocol (12 bytes; more is ignored). */
export function parseOptneg(data: Buffer): { version: number; actions: number; protocol: number } {
  if (data.length < 12) {
    throw new MilterError('MEF_MILTER_PROTOCOL', `OPTNEG of ${data.length} bytes (expected at least 12)`);
  }
  return { version: data.readUInt32BE(0), actions: data.readUInt32BE(4), protocol: data.readUInt32BE(8) };
}

/** Parses a MACRO payload: the command it belongs to, then name/value pairs. */
export function parseMacros(data: Buffer): { command: string; macros: Map<string, string> } {
  if (data.length < 1) throw new MilterError('MEF_MILTER_PROTOCOL', 'MACRO without a command code');
  const parts = splitStrings(data.subarray(1));
  const macros = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // `{auth_authen}` and `auth_authen` are the same macro.
    macros.set((parts[i] as string).replace(/^\{(.*)\}$/, '$1'), parts[i + 1] as string);
  }
  return { command: String.fromCharCode(data[0] as number), macros };
}

/** True when the bytes `data[start, end)` are the macro name `name`, with or without braces. */
function isMacroName(data: Buffer, start: number, end: number, name: string): boolean {
  let from = start;
  let to = end;
  if (to - from >= 2 && data[from] === 0x7b && data[to - 1] === 0x7d) {
    from++;
    to--;
  }
  if (to - from !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (data[from + k] !== name.charCodeAt(k)) return false;
  return true;
}

/**
 * One macro's value in a MACRO payload (`{auth_authen}` and `auth_authen` are the same), read
 * without parsing the rest: the session keeps each MACRO frame as it came and reads only the
 * few values it uses.
 */
export function macroValue(data: Buffer, name: string): string | undefined {
  let at = 1;
  while (at < data.length) {
    const nameEnd = data.indexOf(0, at);
    // A name without a value (the payload ends with it) counts for nothing, as in parseMacros.
    if (nameEnd < 0 || nameEnd + 1 >= data.length) return undefined;
    const valueNul = data.indexOf(0, nameEnd + 1);
    const valueEnd = valueNul < 0 ? data.length : valueNul;
    if (isMacroName(data, at, nameEnd, name)) return data.toString('latin1', nameEnd + 1, valueEnd);
    at = valueEnd + 1;
  }
  return undefined;
}

/** An envelope address without its angle brackets, and its ESMTP parameters. */
export function parseAddressArgs(data: Buffer): { address: string; params: Record<string, string | true> } {
  const [first = '', ...rest] = splitStrings(data);
  const address = first.trim().replace(/^<(.*)>$/, '$1');
  const params: Record<string, string | true> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) params[p.toUpperCase()] = true;
    else params[p.slice(0, eq).toUpperCase()] = p.slice(eq + 1);
  }
  return { address, params };
}
