import { readFile } from 'node:fs/promises';
import { missingReadmeExports, readmeApiNames } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('README', () => {
  it('shows the example file and names only exports that exist', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('../examples/server.ts', import.meta.url), 'utf8');
    expect(text).toContain(example.trim());
    expect(readmeApiNames(text)).toEqual(['useEngine', 'sessionInfo']);
    expect(missingReadmeExports(text, api)).toEqual([]);
  });
});
