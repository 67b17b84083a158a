import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorDocsSuite, missingReadmeExports } from '@mef/core/testing';
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
    expect(missingReadmeExports(text, api)).toEqual([]);
    const example = await readFile(new URL('../examples/milter.ts', import.meta.url), 'utf8');
    expect(text).toContain(example.trim());
  });
});
