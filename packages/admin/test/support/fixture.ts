import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  type AdminConfig,
  type AdminServer,
  type AdminServerOptions,
  addUser,
  createAdminServer,
  openStore,
  type Store,
  seedDomains,
} from '../../src/index.js';

export const PASSWORDS = { alice: 'alice-secret-pass', bob: 'bob-secret-pass!', root: 'operator-pass-123' };

/** An admin server on a fresh store with domains a.test (alice) and b.test (bob), and operator root. */
export interface Fixture {
  store: Store;
  /** The admin config the server runs with (`database`: the SQLite file or URL, for a relay to share). */
  config: AdminConfig;
  server: AdminServer;
  base: string;
  /** Everything the server logged so far. */
  log(): string;
  close(): Promise<void>;
}

export async function startFixture(
  database: string | undefined,
  config: Partial<AdminConfig> = {},
  options: AdminServerOptions = {},
  /** The destinations of a.test and b.test (default: 127.0.0.1:2526 and :2527, where nothing listens). */
  destinations: { a: string; b: string } = { a: '127.0.0.1:2526', b: '127.0.0.1:2527' },
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mef-admin-'));
  const path = database ?? join(dir, 'admin.db');
  const store = await openStore(path);
  await seedDomains(store, {
    'a.test': { destination: destinations.a, monitor: true },
    'b.test': { destination: destinations.b, monitor: true },
  });
  await addUser(store, { name: 'alice', password: PASSWORDS.alice, domains: ['a.test'] });
  await addUser(store, { name: 'bob', password: PASSWORDS.bob, domains: ['b.test'] });
  await addUser(store, { name: 'root', password: PASSWORDS.root, operator: true });
  let logged = '';
  const log = new PassThrough();
  log.on('data', (d: Buffer) => {
    logged += d.toString();
  });
  const adminConfig: AdminConfig = {
    listen: { host: '127.0.0.1', port: 0 },
    database: path,
    ...config,
  };
  const server = createAdminServer(adminConfig, store, { log, ...options });
  const base = await server.listen();
  const fx: Fixture = {
    store,
    config: adminConfig,
    server,
    base,
    log: () => logged,
    async close() {
      await fx.server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}
