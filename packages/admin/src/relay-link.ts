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
  /**
   * Most verdict-log writes waiting for the database at once (default 10,000); a record beyond
   * them is dropped and counted, and `onError` hears of each run of drops once.
   */
  maxPendingWrites?: number;
}

/** A relay's tie to the admin store: its `domainSettings` and `onTransaction` (see `createRelay`). */
export interface RelayLink {
  /** The per-domain settings, a snapshot kept fresh from the store. */
  readonly domainSettings: StoreSettingsSource;
  /** Writes one transaction's metadata into the verdict log; never throws, never waits. */
  readonly onTransaction: (record: TransactionRecord) => void;
  /** Verdict-log records dropped so far because `maxPendingWrites` were waiting. */
  readonly droppedRecords: number;
  /** Stops polling, waits for the verdict-log writes under way, and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the admin store at `database` (a SQLite file path or a `postgres://` URL) for a relay:
 * seeds it with the file's domains, reads every domain's settings from it (a change made in the
 * interface is in force within `pollMs`), and logs each transaction into its verdict log.
 *
 * One link per relay: `mef relay` with several workers opens it in its primary process only,
 * which hands the settings to the workers and writes the records they send it (one reader and
 * one writer per relay host, whatever the number of workers).
 */
export async function linkRelay(database: string, options: LinkRelayOptions = {}): Promise<RelayLink> {
  const maxPending = options.maxPendingWrites ?? 10_000;
  if (!Number.isInteger(maxPending) || maxPending < 1) {
    throw new TypeError(
      `linkRelay: maxPendingWrites must be a whole number >= 1, found ${String(maxPending)}`,
    );
  }
  const store = await openStore(database);
  try {
    if (options.seed) await seedDomains(store, options.seed);
    const domainSettings = await createSettingsSource(store, {
      pollMs: options.pollMs ?? 2000,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    const writing = new Set<Promise<void>>();
    let dropped = 0;
    let dropping = false;
    return {
      domainSettings,
      onTransaction(record) {
        if (writing.size >= maxPending) {
          dropped++;
          if (!dropping) {
            dropping = true;
            options.onError?.(
              new Error(`verdict log: ${maxPending} writes waiting for the database; dropping records`),
            );
          }
          return;
        }
        dropping = false;
        const w = recordTransaction(store, record)
          .catch((err: Error) => options.onError?.(err))
          .finally(() => writing.delete(w));
        writing.add(w);
      },
      get droppedRecords() {
        return dropped;
      },
      async close() {
        domainSettings.close();
        await Promise.all(writing);
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
