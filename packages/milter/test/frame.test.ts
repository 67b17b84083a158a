import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  MilterError,
  parseAddressArgs,
  parseConnect,
  parseMacros,
  splitStrings,
} from '../src/index.js';
import { connectFrame } from './support/mta.js';

const frameArb = fc.record({
  command: fc.constantFrom('O', 'D', 'C', 'H', 'M', 'R', 'L', 'N', 'B', 'E', 'A', 'Q', 'K'),
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('FrameDecoder', () => {
  it('gives the same frames however the bytes are split or joined', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map((f) => encodeFrame(f.command, f.data)));
          const decoder = new FrameDecoder();
          const got = splitAt(wire, cuts).flatMap((piece) => decoder.push(piece));
          expect(got.map((f) => [f.command, f.data.toString('hex')])).toEqual(
            frames.map((f) => [f.command, f.data.toString('hex')]),
          );
          expect(decoder.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers garbage with frames or a MilterError, never another failure, in bounded memory', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }), (reads) => {
        const decoder = new FrameDecoder(4096);
        try {
          for (const r of reads) {
            decoder.push(Buffer.from(r));
            expect(decoder.pending).toBeLessThanOrEqual(4096 + 4 + 64);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(MilterError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a length above the limit before reading the frame', () => {
    const d = new FrameDecoder(1000);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000, 0);
    expect(() => d.push(head)).toThrow(expect.objectContaining({ code: 'MEF_MILTER_FRAME_TOO_LARGE' }));
    expect(() => new FrameDecoder().push(Buffer.alloc(4))).toThrow(
      expect.objectContaining({ code: 'MEF_MILTER_PROTOCOL' }),
    );
  });

  it('stays linear on a large frame fed one byte at a time', () => {
    const wire = encodeFrame('B', Buffer.alloc(64 * 1024, 0x61));
    const d = new FrameDecoder();
    const started = Date.now();
    let frames = 0;
    for (let i = 0; i < wire.length; i++) frames += d.push(wire.subarray(i, i + 1)).length;
    expect(frames).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('payload parsers', () => {
  it('parse CONNECT, macros, strings and envelope arguments', () => {
    const c = connectFrame('mail.example.test', '192.0.2.7', 4321);
    expect(parseConnect(c.subarray(5))).toEqual({
      hostname: 'mail.example.test',
      family: '4',
      port: 4321,
      address: '192.0.2.7',
    });
    const m = parseMacros(
      Buffer.concat([Buffer.from('C'), Buffer.from('j\0mx.test\0{daemon_name}\0smtpd\0')]),
    );
    expect(m.command).toBe('C');
    expect(Object.fromEntries(m.macros)).toEqual({ j: 'mx.test', daemon_name: 'smtpd' });
    expect(splitStrings(Buffer.from('a\0b\0'))).toEqual(['a', 'b']);
    expect(parseAddressArgs(Buffer.from('<a@b.test>\0SIZE=100\0SMTPUTF8\0'))).toEqual({
      address: 'a@b.test',
      params: { SIZE: '100', SMTPUTF8: true },
    });
  });

  it('refuse a malformed CONNECT with a MilterError', () => {
    for (const bad of [Buffer.from('host'), Buffer.from('host\0Z\0\0')]) {
      expect(() => parseConnect(bad)).toThrow(MilterError);
    }
  });
});
