/**
 * One filtering relay in a process of its own, tied to the admin store the way `mef relay` is
 * with `admin.database`: `node --import tsx relay-process.ts '{"database": ..., "config": ...}'`.
 * Prints `listening PORT` on standard output once it accepts; stops gracefully on SIGTERM.
 */
import { createRelay, type RelayConfigInput } from '@mef/relay';
import { type DomainSettings, linkRelay } from '../../src/index.js';

const { database, config } = JSON.parse(process.argv[2] ?? '{}') as {
  database: string;
  config: RelayConfigInput;
};
const link = await linkRelay(database, {
  // Parsed from JSON: no member is undefined.
  seed: (config.relay.domains ?? {}) as Record<string, DomainSettings>,
  // The admin interface's changes reach this relay within half a second.
  pollMs: 500,
  onError: (err) => process.stderr.write(`admin database: ${err.message}\n`),
});
const relay = createRelay(config, { domainSettings: link.domainSettings, onTransaction: link.onTransaction });
const ports = await relay.listen();
process.stdout.write(`listening ${ports.smtp}\n`);
process.once('SIGTERM', () => {
  void relay
    .close()
    .then(() => link.close())
    .then(() => process.exit(0));
});
