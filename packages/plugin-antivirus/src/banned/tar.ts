/**
 * tar and gzip, read in memory: a tar is a run of 512-byte headers (checksummed) and data
 * blocks, so it is listed without any tool; a gzip is one member, inflated with node's zlib
 * only as far as asked (its first bytes, or at most the nested-archive limit).
 */
import { createGunzip } from 'node:zlib';
import { bufferReader, type ReadMember, visitMember, type Walk } from './archives.js';

function cString(b: Buffer, start: number, length: number): string {
  const s = b.subarray(start, start + length);
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
}

function octal(b: Buffer, start: number, length: number): number {
  if ((b[start] as number) & 0x80) {
    // base-256 (GNU): big-endian binary in the remaining bytes
    let n = 0;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + (b[i] as number);
    return n;
  }
  const t = cString(b, start, length).trim();
  return t ? Number.parseInt(t, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return sum === octal(h, 148, 8);
}

/** Lists a tar held in memory; members' bytes are slices of it. */
export async function walkTar(buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buffer.length) {
    const h = buffer.subarray(off, off + 512);
    if (h.every((x) => x === 0)) return;
    if (!checksumOk(h)) {
      walk.report.unreadable.push(`${label}: broken tar header at ${off}`);
      return;
    }
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] as number);
    const start = off + 512;
    const data = buffer.subarray(start, Math.min(buffer.length, start + size));
    off = start + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m?.[1]) longName = m[1];
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      longName = undefined;
      continue;
    }
    const prefix = h.toString('latin1', 257, 262) === 'ustar' ? cString(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
    longName = undefined;
    const whole = data.length === size;
    const read: ReadMember = whole
      ? bufferReader(data)
      : async (max) => ({ data: data.subarray(0, max), complete: false });
    const go = await visitMember(
      walk,
      label,
      depth,
      { name, encrypted: false, uncompressedSize: size, compressedSize: 0 },
      read,
    );
    if (!go) return;
  }
}

/** Inflates at most `max` bytes of a gzip stream. */
export function gunzipHead(buffer: Buffer, max: number): Promise<{ data: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const z = createGunzip();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (complete: boolean) => {
      if (done) return;
      done = true;
      z.removeAllListeners('data');
      z.on('error', () => {});
      if (!complete) z.destroy();
      resolve({ data: Buffer.concat(chunks).subarray(0, max), complete });
    };
    z.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > max) finish(false);
    });
    z.on('end', () => finish(true));
    z.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    z.end(buffer);
  });
}

/** A gzip is one member: named by its header (FNAME) or by the archive's own name. */
export async function walkGzip(buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  const flags = buffer[3] ?? 0;
  let p = 10;
  if (flags & 0x04 && p + 2 <= buffer.length) p += 2 + buffer.readUInt16LE(p);
  let name: string | undefined;
  if (flags & 0x08) name = cString(buffer, p, Math.min(1024, Math.max(0, buffer.length - p)));
  if (!name) {
    const base = label.split('!/').pop()?.split('/').pop() ?? label;
    name = base.replace(/\.t(?:gz|az)$/i, '.tar').replace(/\.gz$/i, '') || 'data';
  }
  const declared = buffer.length >= 18 ? buffer.readUInt32LE(buffer.length - 4) : 0;
  await visitMember(
    walk,
    label,
    depth,
    { name, encrypted: false, uncompressedSize: declared, compressedSize: buffer.length },
    (max) => gunzipHead(buffer, max),
  );
}
