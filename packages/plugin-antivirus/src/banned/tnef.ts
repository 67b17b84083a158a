/**
 * A small bounded TNEF (`winmail.dat`) reader: no maintained npm library unpacks TNEF without
 * pulling in a mail stack, and the part of the format that carries attachments is short. The
 * stream is a signature, then attributes (level, id, length, data, checksum); an attachment
 * starts at `attAttachRendData` and has its name in `attAttachTitle` and its bytes in
 * `attAttachData`. MAPI property blocks (long file names, embedded messages) are not decoded.
 */
import { bufferReader, visitMember, type Walk } from './archives.js';

const ATT_ATTACH_REND_DATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
/** Most attributes read from one stream. */
const MAX_ATTRIBUTES = 100_000;

/** One attachment of a TNEF stream. */
export interface TnefAttachment {
  name: string | undefined;
  data: Buffer | undefined;
}

/** The attachments of a TNEF stream (names and bytes); stops at the first broken attribute. */
export function readTnef(buffer: Buffer): { attachments: TnefAttachment[]; broken: boolean } {
  const attachments: TnefAttachment[] = [];
  if (buffer.length < 6 || buffer.readUInt32LE(0) !== 0x223e9f78) return { attachments, broken: true };
  let pos = 6;
  let current: TnefAttachment | undefined;
  for (let n = 0; n < MAX_ATTRIBUTES && pos < buffer.length; n++) {
    if (pos + 9 > buffer.length) return { attachments, broken: true };
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
      current = { name: undefined, data: undefined };
      attachments.push(current);
    } else if (current && id === ATT_ATTACH_TITLE) {
      const z = data.indexOf(0);
      current.name = (z >= 0 ? data.subarray(0, z) : data).toString('latin1');
    } else if (current && id === ATT_ATTACH_DATA) {
      current.data = data;
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
    const go = await visitMember(
      walk,
      label,
      depth,
      {
        name: a.name ?? `attachment-${i}`,
        encrypted: false,
        uncompressedSize: data.length,
        compressedSize: 0,
      },
      a.data ? bufferReader(a.data) : undefined,
    );
    if (!go) return;
  }
}
