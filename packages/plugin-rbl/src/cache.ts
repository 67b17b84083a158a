/** A cached DNS answer: the records (A addresses or TXT strings); empty means "no such name". */
export interface CachedAnswer {
  readonly records: readonly string[];
}

/**
 * A cache of DNS answers keyed by record type and name (`A:2.0.0.127.zen.example`).
 * The in-memory cache is the default; a shared cache (Redis, as rspamd uses) fits the
 * same two methods so that several relay processes share lookups. `ttl` is in seconds.
 */
export interface RblCache {
  get(key: string): CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  set(key: string, value: CachedAnswer, ttl: number): void | Promise<void>;
}

/** Options of {@link MemoryCache}. */
export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** Clock in ms, for tests (default `Date.now`). */
  now?: () => number;
}

/** A bounded in-memory LRU cache whose entries expire after their TTL. */
export class MemoryCache implements RblCache {
  readonly #map = new Map<string, { value: CachedAnswer; expires: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MemoryCacheOptions = {}) {
    this.#max = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): CachedAnswer | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    // Refresh recency: a Map iterates in insertion order.
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: string, value: CachedAnswer, ttl: number): void {
    if (!(ttl > 0) || this.#max <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.#now() + ttl * 1000 });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  clear(): void {
    this.#map.clear();
  }
}
