import { SpamError } from '../errors.js';
import { connectRedis } from '../redis.js';

/** What a greylist store keeps per triplet. */
export interface GreylistRecord {
  /** When the triplet was first seen (ms since the epoch). */
  readonly first: number;
  /** True once a retry came after the delay: the triplet is then remembered and passes. */
  readonly passed: boolean;
}

/**
 * Where greylisting remembers triplets. `add` must keep the record that is already there
 * (two relays seeing a new triplet at once keep the first sighting).
 */
export interface GreylistStore {
  get(key: string): Promise<GreylistRecord | undefined>;
  /** Stores `record` for `ttlMs` unless the key exists; returns the record now stored. */
  add(key: string, record: GreylistRecord, ttlMs: number): Promise<GreylistRecord>;
  /** Stores `record` for `ttlMs`, replacing what is there. */
  put(key: string, record: GreylistRecord, ttlMs: number): Promise<void>;
  close?(): Promise<void>;
}

/** Options of {@link MemoryGreylistStore}. */
export interface MemoryGreylistStoreOptions {
  /** Most triplets kept; the least recently used goes first. Default 100,000. */
  readonly maxEntries?: number;
  /** Clock (ms), for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Triplets in this process's memory: bounded, least recently used first out. One relay only. */
export class MemoryGreylistStore implements GreylistStore {
  readonly #map = new Map<string, { record: GreylistRecord; expires: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MemoryGreylistStoreOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`Invalid option maxEntries: expected a positive whole number, got ${String(max)}`);
    }
    this.#max = max;
    this.#now = options.now ?? Date.now;
  }

  /** Triplets held now. */
  get size(): number {
    return this.#map.size;
  }

  async get(key: string): Promise<GreylistRecord | undefined> {
    const e = this.#map.get(key);
    if (!e) return undefined;
    this.#map.delete(key);
    if (e.expires <= this.#now()) return undefined;
    this.#map.set(key, e);
    return e.record;
  }

  async add(key: string, record: GreylistRecord, ttlMs: number): Promise<GreylistRecord> {
    const have = await this.get(key);
    if (have) return have;
    await this.put(key, record, ttlMs);
    return record;
  }

  async put(key: string, record: GreylistRecord, ttlMs: number): Promise<void> {
    this.#map.delete(key);
    this.#map.set(key, { record, expires: this.#now() + ttlMs });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }
}

/** The part of an ioredis client the Redis greylist store uses. */
export interface GreylistRedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ttl: number, nx?: 'NX'): Promise<string | null>;
  quit?(): Promise<unknown>;
}

/** Options of {@link RedisGreylistStore}. */
export interface RedisGreylistStoreOptions {
  /** A connected ioredis client (shared with the host), or... */
  readonly client?: GreylistRedisClient;
  /** ...a `redis://` URL: the store then makes its own ioredis client. */
  readonly url?: string;
  /** Key prefix; relays that share a view use the same one. Default `mef:greylist:`. */
  readonly prefix?: string;
}

function encode(r: GreylistRecord): string {
  return `${r.first}:${r.passed ? 1 : 0}`;
}

function decode(v: string | null): GreylistRecord | undefined {
  if (v === null) return undefined;
  const m = /^(\d+):([01])$/.exec(v);
  return m ? { first: Number(m[1]), passed: m[2] === '1' } : undefined;
}

/**
 * Triplets in Redis with their time to live, so every relay that shares the Redis shares
 * one view: a retry that reaches the other MX passes too.
 */
export class RedisGreylistStore implements GreylistStore {
  #client: GreylistRedisClient | undefined;
  #connecting: Promise<GreylistRedisClient> | undefined;
  readonly #url: string | undefined;
  readonly #own: boolean;
  readonly #prefix: string;

  constructor(options: RedisGreylistStoreOptions) {
    if (!options.client && !options.url) {
      throw new TypeError('Invalid option client: expected an ioredis client or a url, got neither');
    }
    this.#client = options.client;
    this.#url = options.url;
    this.#own = !options.client;
    this.#prefix = options.prefix ?? 'mef:greylist:';
  }

  async #redis(): Promise<GreylistRedisClient> {
    if (this.#client) return this.#client;
    this.#connecting ??= connectRedis<GreylistRedisClient>(
      this.#url as string,
      'RedisGreylistStore',
      'MEF_SPAM_GREYLIST_STORE',
    ).then((c) => {
      this.#client = c;
      return c;
    });
    return this.#connecting;
  }

  #wrap<T>(what: string, p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      throw err instanceof SpamError
        ? err
        : new SpamError('MEF_SPAM_GREYLIST_STORE', `Redis greylist ${what} failed: ${String(err)}`, {
            cause: err,
          });
    });
  }

  async get(key: string): Promise<GreylistRecord | undefined> {
    const r = await this.#redis();
    return decode(await this.#wrap('read', r.get(this.#prefix + key)));
  }

  async add(key: string, record: GreylistRecord, ttlMs: number): Promise<GreylistRecord> {
    const r = await this.#redis();
    const ok = await this.#wrap(
      'write',
      r.set(this.#prefix + key, encode(record), 'PX', Math.ceil(ttlMs), 'NX'),
    );
    if (ok !== null) return record;
    return (await this.get(key)) ?? record;
  }

  async put(key: string, record: GreylistRecord, ttlMs: number): Promise<void> {
    const r = await this.#redis();
    await this.#wrap('write', r.set(this.#prefix + key, encode(record), 'PX', Math.ceil(ttlMs)));
  }

  /** Closes the client when the store made it (a client passed in belongs to the host). */
  async close(): Promise<void> {
    if (this.#own && this.#client?.quit) await this.#client.quit();
  }
}
