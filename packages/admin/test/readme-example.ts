import {
  addUser,
  createAdminServer,
  createSettingsSource,
  openStore,
  recordTransaction,
  seedDomains,
} from '../src/index.js';

// One SQLite file; a postgres:// URL works the same way, for relays that share one view.
const store = await openStore(process.env.MEF_ADMIN_DATABASE ?? 'admin.db');

// The config's `domains` map seeds a new store; after that the store is the truth.
await seedDomains(store, { 'example.net': { destination: '10.0.0.5:25', monitor: true } });
await addUser(store, { name: 'alice', password: 'a long passphrase', domains: ['example.net'] });

// In a relay: every domain's settings in memory, read again from the store every 2 s.
const settings = await createSettingsSource(store, { pollMs: 2000 });
console.log(settings.get('example.net')); // { destination: '10.0.0.5:25', monitor: true }

// After each transaction, the relay records its metadata (never the message).
await recordTransaction(store, {
  time: new Date().toISOString(),
  client: '192.0.2.1',
  sender: 'someone@example.org',
  recipients: ['alice@example.net'],
  domain: 'example.net',
  size: 1200,
  disposition: 'accept',
  score: 0.4,
  symbols: [],
  direction: 'inbound',
});

// The web interface, as `mef admin` runs it (port 0: any free port).
const server = createAdminServer({ listen: { host: '127.0.0.1', port: 0 }, database: 'admin.db' }, store, {
  log: false,
});
console.log(`log in at ${await server.listen()}/login`);

await server.close();
settings.close();
await store.close();
