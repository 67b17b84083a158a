import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compareErrorDocs } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { milterErrorCodes } from '../src/index.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

describe('docs', () => {
  it('docs/reference/errors.md lists exactly the codes this package defines', async () => {
    const page = fileURLToPath(new URL('../../../docs/reference/errors.md', import.meta.url));
    expect(await compareErrorDocs(page, '@mef/milter', milterErrorCodes)).toEqual({
      undocumented: [],
      unknown: [],
    });
  });

  it('README lists every error code, names only exports that exist and shows the example file', async () => {
    expect(await compareErrorDocs(readme, 'Errors', milterErrorCodes)).toEqual({
      undocumented: [],
      unknown: [],
    });
    const text = await readFile(readme, 'utf8');
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/^\| `([A-Za-z_]+)`/gm)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    for (const n of named) expect(api, n).toHaveProperty(n);
    const example = await readFile(new URL('../examples/milter.ts', import.meta.url), 'utf8');
    expect(text).toContain(example.trim());
  });
});
