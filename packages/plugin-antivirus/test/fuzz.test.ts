import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFileName, compileRules } from '../src/banned/rules.js';
import { AntivirusError, inspectZip, parseScanReply } from '../src/index.js';
import { makeZip } from './support/zip-writer.js';

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
});
