import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorDocsSuite } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { milterErrorCodes } from '../src/index.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

errorDocsSuite({ describe, it }, '@mef/milter', {
  codes: milterErrorCodes,
  packageDir: new URL('..', import.meta.url),
});

describe('docs', () => {
  it('README names only exports that exist and shows the example file', async () => {
    const text = await readFile(readme, 'utf8');
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/^\| `([A-Za-z_]+)`/gm)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    for (const n of named) expect(api, n).toHaveProperty(n);
    const example = await readFile(new URL('../examples/milter.ts', import.meta.url), 'utf8');
    expect(text).toContain(example.trim());
  });
});
