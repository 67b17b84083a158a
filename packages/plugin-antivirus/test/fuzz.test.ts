import { gzipSync } from 'node:zlib';
import { makeZip } from '@mef/test-servers/zip';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFileName, compileRules } from '../src/banned/rules.js';
import { AntivirusError, inspectArchive, inspectZip, parseScanReply } from '../src/index.js';
import { makeRar } from './support/rar-writer.js';
import { makeTar } from './support/tar-writer.js';

describe('fuzz', () => {
  it('parseScanReply answers or throws MEF_AV_CLAMD_PROTOCOL, for any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          const r = parseScanReply(text);
          expect(['clean', 'found', 'error']).toContain(r.kind);
        } catch (err) {
          expect(err).toBeInstanceOf(AntivirusError);
          expect((err as AntivirusError).code).toBe('MEF_AV_CLAMD_PROTOCOL');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('inspectZip never throws on corrupted archives: every damage ends in a report', async () => {
    const base = makeZip([
      { name: 'a/readme.txt', data: Buffer.from('hello world '.repeat(50)) },
      { name: 'b.exe', data: Buffer.from('MZ'.padEnd(300, '\0')), method: 'store' },
      { name: 'inner.zip', data: makeZip([{ name: 'x.vbs', data: Buffer.from('x') }]) },
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat({ max: base.length }), { nil: undefined }),
        async (edits, cut) => {
          const z = Buffer.from(base);
          for (const [at, byte] of edits) z[at] = byte;
          const r = await inspectZip(cut === undefined ? z : z.subarray(0, cut), 'f.zip');
          expect(Array.isArray(r.members)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('file name rules never throw and always flag a banned last extension', () => {
    const rules = compileRules({});
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('exe', 'scr', 'js', 'pdf', 'txt'),
        (stem, ext) => {
          const hits = checkFileName(rules, `${stem.replace(/[./\\\0]/g, '_')}.${ext}`);
          expect(hits.some((h) => h.symbol === 'BANNED_EXTENSION')).toBe(['exe', 'scr', 'js'].includes(ext));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('inspectArchive never throws on damaged tar, gzip, rar and TNEF: every damage ends in a report', async () => {
    const exe = Buffer.from('MZ'.padEnd(300, '\0'));
    const tnef = Buffer.alloc(6 + 3 * 11 + 300);
    tnef.writeUInt32LE(0x223e9f78, 0);
    let at = 6;
    for (const [id, data] of [
      [0x00069002, Buffer.alloc(0)],
      [0x00018010, Buffer.from('x.exe\0')],
      [0x0006800f, exe],
    ] as const) {
      tnef[at] = 2;
      tnef.writeUInt32LE(id, at + 1);
      tnef.writeUInt32LE(data.length, at + 5);
      data.copy(tnef, at + 9);
      at += 9 + data.length + 2;
    }
    const bases = [
      makeTar([
        { name: 'a.exe', data: exe },
        { name: 'b.txt', data: Buffer.from('hello') },
      ]),
      gzipSync(makeTar([{ name: 'a.exe', data: exe }])),
      makeRar([{ name: 'a.exe', data: exe }]),
      tnef.subarray(0, at),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bases.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (which, edits, cut) => {
          const base = bases[which] as Buffer;
          const b = Buffer.from(base);
          // Keep the magic bytes so the damaged copy still goes to its own reader.
          for (const [pos, byte] of edits) if (pos % b.length >= 8) b[pos % b.length] = byte;
          const r = await inspectArchive(cut === undefined ? b : b.subarray(0, 8 + (cut % b.length)), 'f');
          expect(Array.isArray(r.members)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
