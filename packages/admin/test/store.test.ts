import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  AdminError,
  addUser,
  auditLog,
  authenticate,
  createSettingsSource,
  dailyCounts,
  dispositionTotals,
  getDomain,
  linkRelay,
  openStore,
  pruneTransactions,
  recordTransaction,
  type Store,
  searchTransactions,
  seedDomains,
  type TransactionRecord,
  updateDomain,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mef-admin-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends = [
  { name: 'a SQLite file', database: async () => join(dir, 'store.db') },
  { name: 'PostgreSQL', database: () => createDatabase(inject('postgresUrl'), 'store_test') },
];

function record(over: Partial<TransactionRecord> = {}): TransactionRecord {
  return {
    time: '2026-11-20T10:00:00.000Z',
    client: '192.0.2.7',
    helo: 'mail.sender.example',
    sender: 'someone@sender.example',
    recipients: ['user@a.test'],
    domain: 'a.test',
    messageId: '<m1@sender.example>',
    size: 1234,
    disposition: 'accept',
    score: 1.5,
    symbols: ['MIME_HTML_ONLY'],
    direction: 'inbound',
    ...over,
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('the store on $name', ({ database }) => {
  let url: string;
  let store: Store;
  beforeAll(async () => {
    url = await database();
    store = await openStore(url);
  });
  afterAll(() => store.close());

  it('migrates once: a second open of the same database finds the schema in place', async () => {
    const again = await openStore(url);
    await expect(again.db.selectFrom('domains').selectAll().execute()).resolves.toEqual([]);
    await again.close();
  });

  it('seeds domains from a config map and never overwrites a domain already in the store', async () => {
    expect(await seedDomains(store, { 'A.test': { destination: '127.0.0.1:2526', monitor: true } })).toEqual([
      'a.test',
    ]);
    expect(
      await seedDomains(store, {
        'a.test': { destination: '10.9.9.9:25' },
        'b.test': { destination: '127.0.0.1:2527' },
      }),
    ).toEqual(['b.test']);
    expect(await getDomain(store, 'a.test')).toEqual({ destination: '127.0.0.1:2526', monitor: true });
    await expect(seedDomains(store, { 'c.test': { destination: 'nope' } })).rejects.toMatchObject({
      code: 'MEF_ADMIN_INVALID_INPUT',
    });
  });

  it('two relays seeding the same new domains at once: no error, each domain added once', async () => {
    const other = await openStore(url);
    try {
      const seed = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`seed${i}.test`, { destination: '127.0.0.1:2526' }]),
      );
      const [a, b] = await Promise.all([seedDomains(store, seed), seedDomains(other, seed)]);
      expect([...a, ...b].sort()).toEqual(Object.keys(seed).sort());
    } finally {
      await other.close();
    }
  });

  it('writes one audit row per changed key, with who, when, old and new values', async () => {
    const changes = await updateDomain(
      store,
      'a.test',
      {
        destination: '127.0.0.1:2526',
        monitor: false,
        thresholds: { reject: 10 },
        senders: { block: ['@bad.example'] },
      },
      'alice',
    );
    expect(changes.map((c) => c.field)).toEqual(['monitor', 'senders.block', 'thresholds.reject']);
    const log = await auditLog(store, 'a.test');
    expect(log).toHaveLength(3);
    expect(log.find((r) => r.field === 'monitor')).toMatchObject({
      username: 'alice',
      old: 'true',
      new: 'false',
    });
    expect(log.find((r) => r.field === 'thresholds.reject')).toMatchObject({ old: null, new: '10' });
    expect(Date.parse(log[0]?.time ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(await updateDomain(store, 'a.test', (await getDomain(store, 'a.test'))!, 'alice')).toEqual([]);
    expect(await auditLog(store, 'a.test')).toHaveLength(3);
    expect(await auditLog(store, 'b.test')).toEqual([]);
  });

  it('keeps scrypt hashes and tells a right password from a wrong one', async () => {
    await addUser(store, { name: 'alice', password: 'correct horse battery', domains: ['a.test'] });
    const row = await store.db
      .selectFrom('users')
      .select('password_hash')
      .where('name', '=', 'alice')
      .executeTakeFirst();
    expect(row?.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(row?.password_hash).not.toContain('correct horse');
    expect(await authenticate(store, 'alice', 'correct horse battery')).toEqual({
      name: 'alice',
      operator: false,
    });
    expect(await authenticate(store, 'alice', 'correct horse batterY')).toBeUndefined();
    expect(await authenticate(store, 'nobody', 'correct horse battery')).toBeUndefined();
    await expect(addUser(store, { name: 'alice', password: 'another password' })).rejects.toMatchObject({
      code: 'MEF_ADMIN_DUPLICATE',
    });
    await expect(
      addUser(store, { name: 'carol', password: 'long enough pw', domains: ['zzz.test'] }),
    ).rejects.toMatchObject({
      code: 'MEF_ADMIN_UNKNOWN_DOMAIN',
    });
    await expect(addUser(store, { name: 'dave', password: 'short' })).rejects.toBeInstanceOf(AdminError);
  });

  it('records verdicts, counts them per day by disposition and finds them by text', async () => {
    await recordTransaction(store, record());
    await recordTransaction(
      store,
      record({
        time: '2026-11-21T09:00:00Z',
        disposition: 'reject',
        score: 1001,
        symbols: ['GTUBE'],
        messageId: '<Gtube%1@x>',
      }),
    );
    await recordTransaction(
      store,
      record({ time: '2026-11-21T11:00:00Z', disposition: 'would-reject', score: 20 }),
    );
    await recordTransaction(
      store,
      record({ time: '2026-11-21T12:00:00Z', domain: 'b.test', recipients: ['x@b.test'] }),
    );
    await recordTransaction(store, record({ time: '2026-11-21T13:00:00Z', direction: 'outbound' }));
    const days = await dailyCounts(store, 'a.test', 3, new Date('2026-11-21T20:00:00Z'));
    expect(days).toEqual([
      { day: '2026-11-19', counts: {} },
      { day: '2026-11-20', counts: { accept: 1 } },
      { day: '2026-11-21', counts: { reject: 1, 'would-reject': 1, accept: 1 } },
    ]);
    expect(await dispositionTotals(store, 'a.test', { direction: 'inbound' })).toEqual({
      accept: 1,
      reject: 1,
      'would-reject': 1,
    });
    const gtube = await searchTransactions(store, 'a.test', { text: 'gtube' });
    expect(gtube).toHaveLength(1);
    expect(gtube[0]).toMatchObject({ disposition: 'reject', score: 1001, symbols: ['GTUBE'], size: 1234 });
    // A % in the search is a literal character, not a wildcard.
    expect(await searchTransactions(store, 'a.test', { text: 'gtube%1' })).toHaveLength(1);
    expect(await searchTransactions(store, 'a.test', { text: '%' })).toHaveLength(1);
    expect(await searchTransactions(store, 'a.test', { disposition: 'would-reject' })).toHaveLength(1);
    expect(await searchTransactions(store, 'b.test', { text: 'gtube' })).toEqual([]);
    const all = await searchTransactions(store, 'a.test', { limit: 2 });
    expect(all).toHaveLength(2);
    expect(await searchTransactions(store, 'a.test', { before: all[1]?.id ?? 0 })).toHaveLength(2);
    expect(await pruneTransactions(store, '2026-11-21T00:00:00Z')).toBe(1);
  });

  it('refuses a malformed verdict record with a clear error', async () => {
    await expect(recordTransaction(store, record({ size: -1 }))).rejects.toThrow(/size/);
    await expect(recordTransaction(store, { ...record(), time: 'yesterday' })).rejects.toMatchObject({
      code: 'MEF_ADMIN_INVALID_INPUT',
    });
  });

  it('gives relays a settings snapshot that two sources on one database see change within the poll time', async () => {
    const one = await createSettingsSource(store, { pollMs: 100 });
    const other = await openStore(url);
    const two = await createSettingsSource(other, { pollMs: 100 });
    try {
      expect(one.get('B.TEST')).toEqual({ destination: '127.0.0.1:2527' });
      expect(one.get('unknown.test')).toBeUndefined();
      expect(one.get('constructor')).toBeUndefined();
      await updateDomain(store, 'b.test', { destination: '127.0.0.1:2599', monitor: true }, 'bob');
      const deadline = Date.now() + 5000;
      while (
        Date.now() < deadline &&
        (one.get('b.test')?.destination !== '127.0.0.1:2599' || two.get('b.test')?.monitor !== true)
      ) {
        await wait(20);
      }
      expect(one.get('b.test')).toEqual({ destination: '127.0.0.1:2599', monitor: true });
      expect(two.get('b.test')).toEqual({ destination: '127.0.0.1:2599', monitor: true });
    } finally {
      one.close();
      two.close();
      await other.close();
    }
  });

  it('numbers each change of the settings (a read that finds the same settings is none) and tells its listeners', async () => {
    const source = await createSettingsSource(store, { pollMs: 60_000 });
    try {
      const heard: number[] = [];
      const off = source.onChange((g) => heard.push(g));
      const first = source.generation;
      expect(first).toBe(1);
      expect(source.reads).toBe(1);
      expect(source.snapshot()['b.test']).toEqual(source.get('b.test'));
      await source.refresh();
      expect(source.generation).toBe(first);
      expect(source.reads).toBe(2);
      await updateDomain(store, 'b.test', { destination: '127.0.0.1:2598' }, 'bob');
      await source.refresh();
      expect(source.generation).toBe(first + 1);
      expect(heard).toEqual([first + 1]);
      expect(source.snapshot()['b.test']).toEqual({ destination: '127.0.0.1:2598' });
      off();
      await updateDomain(store, 'b.test', { destination: '127.0.0.1:2597' }, 'bob');
      await source.refresh();
      expect(source.generation).toBe(first + 2);
      expect(heard).toEqual([first + 1]);
    } finally {
      source.close();
    }
  });

  it('linkRelay bounds the verdict-log writes waiting for the database: one beyond is dropped, counted and reported once', async () => {
    const errors: string[] = [];
    const link = await linkRelay(url, { maxPendingWrites: 1, onError: (e) => errors.push(e.message) });
    link.onTransaction(record({ messageId: '<kept@sender.example>' }));
    link.onTransaction(record({ messageId: '<dropped@sender.example>' }));
    link.onTransaction(record({ messageId: '<dropped-too@sender.example>' }));
    expect(link.droppedRecords).toBe(2);
    expect(errors).toEqual(['verdict log: 1 writes waiting for the database; dropping records']);
    // close() waits for the write under way.
    await link.close();
    expect((await searchTransactions(store, 'a.test', { text: 'kept@' })).map((r) => r.messageId)).toEqual([
      '<kept@sender.example>',
    ]);
    expect(await searchTransactions(store, 'a.test', { text: 'dropped' })).toEqual([]);
    await expect(linkRelay(url, { maxPendingWrites: 0 })).rejects.toThrow(/maxPendingWrites/);
  });
});

describe('openStore', () => {
  it('names the problem when a SQLite file cannot be opened', async () => {
    await expect(openStore(join(dir, 'no', 'such', 'dir', 'x.db'))).rejects.toMatchObject({
      code: 'MEF_ADMIN_DATABASE',
    });
  });

  it('fails clearly, without the password, when PostgreSQL cannot be reached', async () => {
    const err = await openStore('postgres://u:hunter2secret@127.0.0.1:1/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEF_ADMIN_DATABASE' });
    expect(String((err as Error).message)).not.toContain('hunter2secret');
  });
});
