import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorDocsSuite } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import { authErrorCodes } from '../src/index.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const sources = readdirSync(join(root, 'src'))
  .filter((f) => f.endsWith('.ts') && f !== 'errors.ts')
  .map((f) => readFileSync(join(root, 'src', f), 'utf8'))
  .join('\n');

describe('error codes', () => {
  it('documents every code in the README with the same meaning', () => {
    const rows = new Map(
      [...readme.matchAll(/^\|\s*`(MEF_AUTH_[A-Z_]+)`\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [m[1], m[2]]),
    );
    for (const [code, meaning] of Object.entries(authErrorCodes)) expect(rows.get(code), code).toBe(meaning);
  });

  it('defines every MEF_AUTH_ code that the README or the sources name', () => {
    const named = new Set([...`${readme}\n${sources}`.matchAll(/MEF_AUTH_[A-Z_]+/g)].map((m) => m[0]));
    expect([...named].sort()).toEqual(Object.keys(authErrorCodes).sort());
  });
});

errorDocsSuite({ describe, it }, '@mef/plugin-auth', {
  codes: authErrorCodes,
  packageDir: new URL('..', import.meta.url),
  readme: false,
});
