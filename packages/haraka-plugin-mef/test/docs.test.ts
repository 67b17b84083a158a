import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('README', () => {
  it('names only exports that exist', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/`([a-z_A-Z]+)`/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    for (const n of named) expect(api, n).toHaveProperty(n);
  });
});
