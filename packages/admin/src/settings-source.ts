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
  /** Every domain's settings in the current snapshot, as a plain object (to hand on, e.g. over IPC). */
  snapshot(): Record<string, DomainSettings>;
  /**
   * The snapshot's generation: 1 after the first read, one more each time a read finds settings
   * that differ from the snapshot in force (a read that finds the same settings keeps it).
   */
  readonly generation: number;
  /** How many times the store was read so far (every poll and every `refresh()`). */
  readonly reads: number;
  /**
   * Calls `listener` with the new generation each time a read changes the snapshot (after the
   * new snapshot is in force); returns the function that removes it.
   */
  onChange(listener: (generation: number) => void): () => void;
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
 * process on the same database) is in force within `pollMs` plus one read. `mef relay` with
 * several workers keeps one source in its primary process and hands each new generation to the
 * workers (see {@link StoreSettingsSource.onChange}).
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
  // The snapshot as text, to tell a changed read from the same settings read again.
  let text: string | undefined;
  let generation = 0;
  let reads = 0;
  let lastError: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let inFlight: Promise<void> | undefined;
  const listeners = new Set<(generation: number) => void>();

  const load = async (): Promise<void> => {
    try {
      reads++;
      const next = await listDomains(store);
      lastError = undefined;
      const nextText = JSON.stringify([...next]);
      if (nextText === text) return;
      snapshot = next;
      text = nextText;
      generation++;
      // The first read is no change: the source resolves with it.
      if (generation === 1) return;
      for (const l of listeners) {
        try {
          l(generation);
        } catch (err) {
          options.onError?.(err as Error);
        }
      }
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
    snapshot: () => Object.fromEntries(snapshot),
    get generation() {
      return generation;
    },
    get reads() {
      return reads;
    },
    onChange(listener) {
      // A listener of its own, so that adding the same function twice removes each once.
      const own = (g: number) => listener(g);
      listeners.add(own);
      return () => listeners.delete(own);
    },
    refresh,
    get lastError() {
      return lastError;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      listeners.clear();
    },
  };
}
