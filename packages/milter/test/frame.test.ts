import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerField, isSubject, macroValue } from '../src/frame.js';
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

  it('read one macro value without parsing the rest, as parseMacros reads it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('j', '{j}', 'auth_authen', '{auth_authen}', '{}', 'x'), fc.string()),
          {
            maxLength: 6,
          },
        ),
        fc.boolean(),
        (pairs, trailingName) => {
          const text = pairs.map(([k, v]) => `${k}\0${v.replaceAll('\0', '')}\0`).join('');
          const data = Buffer.from(`M${text}${trailingName ? 'auth_authen\0' : ''}`, 'latin1');
          const parsed = parseMacros(data).macros;
          for (const name of ['j', 'auth_authen', 'x', 'missing']) {
            // parseMacros keeps the last of a repeated name, macroValue the first: compare on single names.
            if (pairs.filter(([k]) => k.replace(/^\{(.*)\}$/, '$1') === name).length > 1) continue;
            expect(macroValue(data, name)).toBe(parsed.get(name));
          }
        },
      ),
    );
    expect(macroValue(Buffer.from('M{auth_authen}\0alice\0'), 'auth_authen')).toBe('alice');
  });

  it('make a HEADER payload the field of the message the stages see', () => {
    const slow = (data: Buffer, leadSpace: boolean) => {
      const [name = '', value = ''] = splitStrings(data);
      return Buffer.from(
        `${`${name}:${leadSpace ? '' : ' '}${value}`.replace(/\r?\n/g, '\r\n')}\r\n`,
        'latin1',
      );
    };
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.boolean(), fc.boolean(), (name, value, leadSpace, end) => {
        const data = Buffer.from(
          `${name.replaceAll('\0', '')}\0${value.replaceAll('\0', '')}${end ? '\0' : ''}`,
          'latin1',
        );
        expect(headerField(data, leadSpace).equals(slow(data, leadSpace))).toBe(true);
      }),
    );
    expect(headerField(Buffer.from('Subject\0 hi\0'), true).toString()).toBe('Subject: hi\r\n');
    expect(headerField(Buffer.from('X\0a\n\tb\0'), false).toString()).toBe('X: a\r\n\tb\r\n');
    expect(isSubject(Buffer.from('SUBJECT\0x\0'))).toBe(true);
    expect(isSubject(Buffer.from('Subjects\0x\0'))).toBe(false);
  });
});
