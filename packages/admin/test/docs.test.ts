import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorDocsSuite } from '@mef/core/testing';
import { describe, expect, it, vi } from 'vitest';
import * as api from '../src/index.js';
import { adminErrorCodes, openStore, searchTransactions } from '../src/index.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

errorDocsSuite({ describe, it }, '@mef/admin', {
  codes: adminErrorCodes,
  packageDir: new URL('..', import.meta.url),
});

describe('README', () => {
  it('names only exports that exist', () => {
    const text = readFileSync(readme, 'utf8');
    const section = text.slice(text.indexOf('## API'), text.indexOf('## Options'));
    const named = [...section.matchAll(/`([A-Za-z]+)[`(]/g)]
      .map((m) => m[1] as string)
      .filter((n) => !/^[A-Z]/.test(n));
    expect(named.length).toBeGreaterThan(20);
    for (const n of named.filter((n) => !['listen', 'close', 'pollMs', 'servers', 'keepDays'].includes(n))) {
      expect(api, n).toHaveProperty(n);
    }
  });

  it('shows the example that this test runs', async () => {
    const text = readFileSync(readme, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
    const file = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8');
    expect(block).toBe(file.replace("from '../src/index.js'", "from '@mef/admin'"));
    const dir = mkdtempSync(join(tmpdir(), 'mef-admin-readme-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      process.env.MEF_ADMIN_DATABASE = join(dir, 'admin.db');
      await import('./readme-example.js');
      expect(log.mock.calls[0]).toEqual([{ destination: '10.0.0.5:25', monitor: true }]);
      expect(String(log.mock.calls[1]?.[0])).toMatch(/^log in at http:\/\/127\.0\.0\.1:\d+\/login$/);
      const store = await openStore(join(dir, 'admin.db'));
      expect(await searchTransactions(store, 'example.net')).toHaveLength(1);
      await store.close();
    } finally {
      log.mockRestore();
      delete process.env.MEF_ADMIN_DATABASE;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
