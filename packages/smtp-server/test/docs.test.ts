import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('README', () => {
  it('shows the example file and names only exports that exist', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('../examples/server.ts', import.meta.url), 'utf8');
    expect(text).toContain(example.trim());
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1] as string);
    expect(named).toEqual(['useEngine']);
    for (const n of named) expect(api, n).toHaveProperty(n);
  });
});
