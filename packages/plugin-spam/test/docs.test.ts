import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorDocsSuite, missingReadmeExports, readmeApiNames } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { builtinRules, spamErrorCodes } from '../src/index.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

errorDocsSuite({ describe, it }, '@mef/plugin-spam', {
  codes: spamErrorCodes,
  packageDir: new URL('..', import.meta.url),
});

describe('README', () => {
  it('lists every built-in rule with its default score', async () => {
    const full = await readFile(readme, 'utf8');
    const text = full.slice(full.indexOf('Rules (group `spam`)'), full.indexOf('Other stages:'));
    const rows = new Map(
      [...text.matchAll(/^\| `([A-Z0-9_]+)` \| [a-z]+ \| ([\d.]+) \|/gm)].map(
        (m) => [m[1], Number(m[2])] as const,
      ),
    );
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(builtinRules.map((r) => [r.name, r.score])));
  });

  it('names only exports that exist', async () => {
    const text = await readFile(readme, 'utf8');
    expect(readmeApiNames(text).length).toBeGreaterThan(15);
    expect(missingReadmeExports(text, api)).toEqual([]);
  });
});

describe('README: SpamAssassin rules example', () => {
  it('is the file this test runs, and GTUBE is rejected through the installed rules', async () => {
    const example = await readFile(
      fileURLToPath(new URL('./fixtures/sa-rules-example.ts', import.meta.url)),
      'utf8',
    );
    expect(await readFile(readme, 'utf8')).toContain(example);
    const mod = await import('./fixtures/sa-rules-example.js');
    expect(mod.verdict.disposition).toBe('reject');
    expect(mod.verdict.symbols.map((s: { name: string }) => s.name)).toContain('SA_GTUBE');
  }, 120_000);
});
