import type { DomainSettings, TransactionRecord } from './settings.js';
import { createSettingsSource, type StoreSettingsSource } from './settings-source.js';
import { seedDomains } from './store/domains.js';
import { openStore } from './store/open.js';
import { recordTransaction } from './store/transactions.js';

/** Options of {@link linkRelay}. */
export interface LinkRelayOptions {
  /** The config file's `relay.domains`: added to the store when it has no such domain yet. */
  seed?: Readonly<Record<string, DomainSettings>>;
  /** How often the settings are read again, in ms (default 2,000). */
  pollMs?: number;
  /** Called when a verdict-log write or a settings refresh fails (the relay goes on). */
  onError?: (err: Error) => void;
}

/** A relay's tie to the admin store: its `domainSettings` and `onTransaction` (see `createRelay`). */
export interface RelayLink {
  /** The per-domain settings, a snapshot kept fresh from the store. */
  readonly domainSettings: StoreSettingsSource;
  /** Writes one transaction's metadata into the verdict log; never throws, never waits. */
  readonly onTransaction: (record: TransactionRecord) => void;
  /** Stops polling and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the admin store at `database` (a SQLite file path or a `postgres://` URL) for a relay:
 * seeds it with the file's domains, reads every domain's settings from it (a change made in the
 * interface is in force within `pollMs`), and logs each transaction into its verdict log.
 */
export async function linkRelay(database: string, options: LinkRelayOptions = {}): Promise<RelayLink> {
  const store = await openStore(database);
  try {
    if (options.seed) await seedDomains(store, options.seed);
    const domainSettings = await createSettingsSource(store, {
      pollMs: options.pollMs ?? 2000,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    return {
      domainSettings,
      onTransaction(record) {
        recordTransaction(store, record).catch((err: Error) => options.onError?.(err));
      },
      async close() {
        domainSettings.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
