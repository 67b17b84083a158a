import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('README', () => {
  it('names only exports that exist', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/`([a-z_A-Z]+)`/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    const source = await readFile(new URL('../src/index.ts', import.meta.url), 'utf8');
    for (const n of named) {
      // Types have no runtime value: they must be exported by the entry's source.
      if (/^[A-Z]/.test(n)) expect(source).toMatch(new RegExp(`export interface ${n}\\b`));
      else expect(api, n).toHaveProperty(n);
    }
  });
});
