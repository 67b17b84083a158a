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
  /** The admin config the server runs with. */
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
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mef-admin-'));
  const store = await openStore(database ?? join(dir, 'admin.db'));
  await seedDomains(store, {
    'a.test': { destination: '127.0.0.1:2526', monitor: true },
    'b.test': { destination: '127.0.0.1:2527', monitor: true },
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
    database: database ?? 'sqlite',
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
