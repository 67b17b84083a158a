/**
 * A small bounded TNEF (`winmail.dat`) reader: no maintained npm library unpacks TNEF without
 * pulling in a mail stack, and the part of the format that carries attachments is short. The
 * stream is a signature, then attributes (level, id, length, data, checksum); an attachment
 * starts at `attAttachRendData` and has its name in `attAttachTitle` and its bytes in
 * `attAttachData`. Of the MAPI property block (`attAttachment`) only the long file name
 * (`PR_ATTACH_LONG_FILENAME`, which Outlook shows) is read; embedded messages are not decoded.
 */
import { bufferReader, visitMember, type Walk } from './archives.js';

const ATT_ATTACH_REND_DATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;
const PR_ATTACH_LONG_FILENAME = 0x3707;
/** Sizes of the fixed-size MAPI property types. */
const FIXED: Record<number, number> = {
  2: 4, // PT_SHORT, padded
  3: 4, // PT_LONG
  4: 4, // PT_FLOAT
  5: 8, // PT_DOUBLE
  6: 8, // PT_CURRENCY
  7: 8, // PT_APPTIME
  10: 4, // PT_ERROR
  11: 4, // PT_BOOLEAN, padded
  20: 8, // PT_I8
  64: 8, // PT_SYSTIME
  72: 16, // PT_CLSID
};
/** Most attributes read from one stream. */
const MAX_ATTRIBUTES = 100_000;

/** One attachment of a TNEF stream. */
export interface TnefAttachment {
  /** The short name (`attAttachTitle`). */
  name: string | undefined;
  /** The long file name from the MAPI properties, when given (what Outlook shows). */
  longName: string | undefined;
  data: Buffer | undefined;
}

/** The long file name in an `attAttachment` MAPI property block, or undefined; stops at anything odd. */
export function mapiLongName(block: Buffer): string | undefined {
  if (block.length < 4) return undefined;
  const count = block.readUInt32LE(0);
  let pos = 4;
  for (let i = 0; i < count && i < 10_000 && pos + 4 <= block.length; i++) {
    const type = block.readUInt16LE(pos);
    const id = block.readUInt16LE(pos + 2);
    pos += 4;
    if (id >= 0x8000) {
      // A named property: GUID, kind, then an id or a name.
      if (pos + 20 > block.length) return undefined;
      const kind = block.readUInt32LE(pos + 16);
      pos += 20;
      if (kind === 0) pos += 4;
      else {
        if (pos + 4 > block.length) return undefined;
        pos += 4 + Math.ceil(block.readUInt32LE(pos) / 4) * 4;
      }
    }
    const multi = (type & 0x1000) !== 0;
    const base = type & 0x0fff;
    const fixed = FIXED[base];
    let values = 1;
    if (multi || fixed === undefined) {
      if (pos + 4 > block.length) return undefined;
      values = block.readUInt32LE(pos);
      pos += 4;
    }
    for (let v = 0; v < values && v < 10_000; v++) {
      if (fixed !== undefined) {
        pos += fixed;
        continue;
      }
      if (pos + 4 > block.length) return undefined;
      const len = block.readUInt32LE(pos);
      pos += 4;
      if (pos + len > block.length) return undefined;
      if (id === PR_ATTACH_LONG_FILENAME && (base === 0x001e || base === 0x001f)) {
        const raw = block.subarray(pos, pos + len);
        return (base === 0x001f ? raw.toString('utf16le') : raw.toString('latin1')).replace(/\0+$/, '');
      }
      pos += Math.ceil(len / 4) * 4;
    }
  }
  return undefined;
}

/** The attachments of a TNEF stream (names and bytes); stops at the first broken attribute. */
export function readTnef(buffer: Buffer): { attachments: TnefAttachment[]; broken: boolean } {
  const attachments: TnefAttachment[] = [];
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== 0x223e9f78) return { attachments, broken: true };
  let pos = 6;
  let current: TnefAttachment | undefined;
  for (let n = 0; n < MAX_ATTRIBUTES && pos < buffer.length; n++) {
    // Fewer bytes than an attribute header at the end: padding (a line break), not damage.
    if (pos + 9 > buffer.length) break;
    const level = buffer[pos];
    const id = buffer.readUInt32LE(pos + 1);
    const length = buffer.readUInt32LE(pos + 5);
    const start = pos + 9;
    if (start + length + 2 > buffer.length || (level !== 1 && level !== 2))
      return { attachments, broken: true };
    const data = buffer.subarray(start, start + length);
    pos = start + length + 2;
    if (level !== 2) continue;
    if (id === ATT_ATTACH_REND_DATA) {
      current = { name: undefined, longName: undefined, data: undefined };
      attachments.push(current);
    } else if (current && id === ATT_ATTACH_TITLE) {
      const z = data.indexOf(0);
      current.name = (z >= 0 ? data.subarray(0, z) : data).toString('latin1');
    } else if (current && id === ATT_ATTACH_DATA) {
      current.data = data;
    } else if (current && id === ATT_ATTACHMENT) {
      current.longName = mapiLongName(data);
    }
  }
  return { attachments, broken: false };
}

/** Lists the attachments of a TNEF stream as members. */
export async function walkTnef(buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  const { attachments, broken } = readTnef(buffer);
  if (broken) walk.report.unreadable.push(`${label}: broken TNEF stream`);
  let i = 0;
  for (const a of attachments) {
    i++;
    const data = a.data ?? Buffer.alloc(0);
    // Both names are checked: the client may show either.
    const names = [...new Set([a.longName, a.name].filter((n): n is string => Boolean(n)))];
    if (!names.length) names.push(`attachment-${i}`);
    for (const name of names) {
      const go = await visitMember(
        walk,
        label,
        depth,
        { name, encrypted: false, uncompressedSize: data.length, compressedSize: 0 },
        a.data ? bufferReader(a.data) : undefined,
      );
      if (!go) return;
    }
  }
}
