/** Writes minimal RAR 4 archives with stored (uncompressed) members, for tests: no rar tool is free to install. */
import { crc32 } from 'node:zlib';

function block(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 2);
  head.writeUInt16LE(flags, 3);
  head.writeUInt16LE(7 + body.length, 5);
  const crc = crc32(Buffer.concat([head.subarray(2), body])) & 0xffff;
  head.writeUInt16LE(crc, 0);
  return Buffer.concat([head, body]);
}

/** A RAR 4 archive holding `files` stored; `encrypted` sets the password flag on every member. */
export function makeRar(files: ReadonlyArray<{ name: string; data: Buffer }>, encrypted = false): Buffer {
  const out: Buffer[] = [Buffer.from('Rar!\x1a\x07\x00', 'latin1'), block(0x73, 0, Buffer.alloc(6))];
  for (const f of files) {
    const name = Buffer.from(f.name, 'latin1');
    const body = Buffer.alloc(25 + name.length);
    body.writeUInt32LE(f.data.length, 0); // packed size
    body.writeUInt32LE(f.data.length, 4); // unpacked size
    body.writeUInt8(2, 8); // host OS: Windows
    body.writeUInt32LE(crc32(f.data) >>> 0, 9);
    body.writeUInt32LE(0x5a210000, 13); // DOS time
    body.writeUInt8(20, 17); // version needed
    body.writeUInt8(0x30, 18); // method: store
    body.writeUInt16LE(name.length, 19);
    body.writeUInt32LE(0x20, 21); // attributes: archive
    name.copy(body, 25);
    out.push(block(0x74, 0x8000 | (encrypted ? 0x04 : 0), body), f.data);
  }
  out.push(Buffer.from([0xc4, 0x3d, 0x7b, 0x00, 0x40, 0x07, 0x00]));
  return Buffer.concat(out);
}
