import type { DomainSettings, DomainSettingsSource } from './settings.js';
import { listDomains } from './store/domains.js';
import type { Store } from './store/open.js';

/** Options of {@link createSettingsSource}. */
export interface SettingsSourceOptions {
  /** How often the snapshot is read again from the store, in ms (default 2,000; at least 50). */
  pollMs?: number;
  /** Called when a refresh fails; the last snapshot stays in force. */
  onError?: (err: Error) => void;
}

/** A {@link DomainSettingsSource} kept fresh from the store. */
export interface StoreSettingsSource extends DomainSettingsSource {
  /** The domains in the current snapshot. */
  domains(): string[];
  /** Reads the store now; resolves when the new snapshot is in force. */
  refresh(): Promise<void>;
  /** The error of the last refresh, or undefined when it succeeded. */
  readonly lastError: Error | undefined;
  /** Stops polling. */
  close(): void;
}

/**
 * A settings source for a relay: an in-memory snapshot of every domain's settings, read from the
 * store once before it resolves, then again every `pollMs`. `get` never waits on the database, so
 * a slow or lost database slows no SMTP reply; a change made in the interface (by any admin
 * process on the same database) is in force within `pollMs` plus one read.
 */
export async function createSettingsSource(
  store: Store,
  options: SettingsSourceOptions = {},
): Promise<StoreSettingsSource> {
  const pollMs = options.pollMs ?? 2000;
  if (!Number.isFinite(pollMs) || pollMs < 50) {
    throw new TypeError(`createSettingsSource: pollMs must be a number of ms >= 50, found ${String(pollMs)}`);
  }
  let snapshot = new Map<string, DomainSettings>();
  let lastError: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let inFlight: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    try {
      snapshot = await listDomains(store);
      lastError = undefined;
    } catch (err) {
      lastError = err as Error;
      options.onError?.(lastError);
    }
  };
  // One read at a time: a slow database makes polls wait, never pile up.
  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void refresh().then(schedule), pollMs);
    timer.unref();
  };

  await refresh();
  if (lastError) throw lastError;
  schedule();
  return {
    get: (domain) => snapshot.get(domain.toLowerCase()),
    domains: () => [...snapshot.keys()],
    refresh,
    get lastError() {
      return lastError;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
