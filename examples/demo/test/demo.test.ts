import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeVerdict, scanFolder } from '../src/demo.js';

const samples = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples');

describe('demo', () => {
  it('accepts the ham, rejects GTUBE on score and the double extension by force', async () => {
    const results = await scanFolder(samples);
    expect(results.map((r) => [r.file, r.verdict.disposition])).toEqual([
      ['01-ham.eml', 'accept'],
      ['02-gtube.eml', 'reject'],
      ['03-double-extension.eml', 'reject'],
    ]);
    expect(results[1]!.verdict.score.value).toBe(1000);
    expect(describeVerdict(results[2]!.file, results[2]!.verdict)).toContain(
      '554 5.7.1 Attachment invoice.pdf.exe is not allowed',
    );
  });
});
