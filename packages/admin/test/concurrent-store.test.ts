/**
 * Several processes on one SQLite store at once, as when an operator runs `mef admin add-user`
 * while a relay and the admin server hold the file: each write waits its turn (up to the 5 s busy
 * timeout) instead of failing with "database is locked". A deferred transaction that has read and
 * then writes after another process committed fails at once whatever the busy timeout; the store
 * therefore begins every SQLite transaction IMMEDIATE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@mef/test-servers';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';

const SCRIPT = join(import.meta.dirname, 'support', 'add-operator.ts');
const dir = mkdtempSync(join(tmpdir(), 'mef-admin-concurrent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one SQLite store, several processes', () => {
  it('8 processes each migrate a new store and add a user at once: all succeed, all users are there', async () => {
    for (let round = 0; round < 3; round++) {
      const database = join(dir, `store-${round}.sqlite`);
      const names = Array.from({ length: 8 }, (_, i) => `op${round}x${i}`);
      const runs = await Promise.all(
        names.map((n) =>
          runCommand(process.execPath, ['--conditions=@mef/source', '--import', 'tsx', SCRIPT, database, n], {
            cwd: join(import.meta.dirname, '..'),
            timeoutMs: 60_000,
          }),
        ),
      );
      for (const [i, r] of runs.entries()) {
        expect({ code: r.code, out: r.stdout, err: r.stderr }).toEqual({
          code: 0,
          out: `added ${names[i]}\n`,
          err: '',
        });
      }
      const store = await openStore(database);
      const rows = await store.db.selectFrom('users').select('name').orderBy('name').execute();
      await store.close();
      expect(rows.map((r) => r.name)).toEqual([...names].sort());
    }
  }, 180_000);
});
