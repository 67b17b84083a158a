import { promises as dns } from 'node:dns';
import { checkDnsServers, checkNumber, invalidOption } from '@mef/core';
import { type CachedAnswer, MemoryCache, type RblCache } from './cache.js';
import { RblError } from './errors.js';
import { Limiter } from './limiter.js';
import { normalizeZone } from './query.js';

/** Options of {@link DnsListClient}. */
export interface DnsClientOptions {
  /**
   * The DNS servers to ask, as IP literals with an optional port: `127.0.0.1:5353`,
   * `[::1]:53`, `192.0.2.53`. Required: the client never falls back to the system resolver.
   */
  servers: readonly string[];
  /** Most time one lookup may take, queueing included, in ms (default 1,000). */
  queryTimeout?: number;
  /**
   * How many times a query is sent within the `queryTimeout` while no answer has come (default 2:
   * again at half the timeout). A late answer to an earlier send still counts.
   */
  tries?: number;
  /** Most queries in flight at once (default 32): UDP loses answers when thousands go at once. */
  concurrency?: number;
  /** Answer cache; `false` turns caching off (default: a {@link MemoryCache} of 10,000 entries). */
  cache?: RblCache | false;
  /** TTL in s of a negative answer when the zone's SOA minimum is unknown (default 300). */
  negativeTtl?: number;
  /** Lower bound of cached TTLs in s (default 0: the answer's own TTL). */
  minTtl?: number;
  /** Upper bound of cached TTLs in s (default 86,400). */
  maxTtl?: number;
  /** TTL in s of cached TXT answers: Node's resolver does not report TXT TTLs (default 300). */
  txtTtl?: number;
}

/** The answer to one lookup. */
export interface LookupAnswer {
  /** A addresses or TXT strings (each TXT record's strings joined); empty for NXDOMAIN and NODATA. */
  readonly records: readonly string[];
  /** True when the cache answered and no query was sent. */
  readonly cached: boolean;
}

/** Counters of a client, for tests, health and benchmarks. */
export interface DnsClientStats {
  queries: number;
  cacheHits: number;
  timeouts: number;
  failures: number;
}

const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Asks DNS lists through an explicitly configured resolver: per-lookup deadline, bounded
 * concurrency, a TTL-respecting cache (negative answers too) and coalescing of identical
 * lookups in flight.
 */
export class DnsListClient {
  readonly servers: readonly string[];
  readonly queryTimeout: number;
  readonly stats: DnsClientStats = { queries: 0, cacheHits: 0, timeouts: 0, failures: 0 };
  readonly #resolver: dns.Resolver;
  readonly #limiter: Limiter;
  readonly #tries: number;
  readonly #cache: RblCache | undefined;
  readonly #negativeTtl: number;
  readonly #minTtl: number;
  readonly #maxTtl: number;
  readonly #txtTtl: number;
  readonly #zoneNegativeTtl = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<LookupAnswer>>();

  constructor(options: DnsClientOptions) {
    if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an options object');
    this.servers = checkDnsServers(options.servers);
    checkNumber('queryTimeout', options.queryTimeout, { min: 1 });
    checkNumber('tries', options.tries, { min: 1, integer: true });
    checkNumber('concurrency', options.concurrency, { min: 1, integer: true });
    checkNumber('negativeTtl', options.negativeTtl, { min: 0 });
    checkNumber('minTtl', options.minTtl, { min: 0 });
    checkNumber('maxTtl', options.maxTtl, { min: 0 });
    checkNumber('txtTtl', options.txtTtl, { min: 0 });
    const cache = options.cache;
    if (cache !== undefined && cache !== false) {
      if (typeof cache !== 'object' || typeof cache.get !== 'function' || typeof cache.set !== 'function') {
        throw invalidOption('cache', cache, 'an object with get(key) and set(key, value, ttl), or false');
      }
    }
    this.queryTimeout = options.queryTimeout ?? 1000;
    this.#tries = options.tries ?? 2;
    // Our own deadline and resends bound the lookup; c-ares gets one try that outlives them.
    this.#resolver = new dns.Resolver({ timeout: this.queryTimeout, tries: 1 });
    this.#resolver.setServers([...this.servers]);
    this.#limiter = new Limiter(options.concurrency ?? 32);
    this.#cache = cache === false ? undefined : (cache ?? new MemoryCache());
    this.#negativeTtl = options.negativeTtl ?? 300;
    this.#minTtl = options.minTtl ?? 0;
    this.#maxTtl = options.maxTtl ?? 86_400;
    this.#txtTtl = options.txtTtl ?? 300;
  }

  /** Sets the negative-answer TTL of a zone (its SOA minimum), in s. */
  setZoneNegativeTtl(zone: string, ttl: number): void {
    this.#zoneNegativeTtl.set(normalizeZone(zone), ttl);
  }

  /** The negative-answer TTL in force for a zone. */
  negativeTtl(zone: string | undefined): number {
    return (
      (zone === undefined ? undefined : this.#zoneNegativeTtl.get(normalizeZone(zone))) ?? this.#negativeTtl
    );
  }

  /**
   * Reads a zone's SOA and records its minimum as the zone's negative TTL (RFC 2308).
   * Returns the minimum, or undefined when the zone has no SOA (rbldnsd without `$SOA`).
   */
  async learnNegativeTtl(zone: string): Promise<number | undefined> {
    try {
      const soa = await this.#withDeadline(`SOA ${zone}`, () =>
        this.#resolver.resolveSoa(normalizeZone(zone)),
      );
      this.setZoneNegativeTtl(zone, soa.minttl);
      return soa.minttl;
    } catch {
      return undefined;
    }
  }

  /** Looks up the A records of `name` (a DNSBL query name). */
  lookupA(name: string, zone?: string, options: { fresh?: boolean } = {}): Promise<LookupAnswer> {
    return this.#lookup('A', name, zone, options.fresh === true, this.queryTimeout);
  }

  /** Looks up the TXT records of `name` (the reason text of a listing). */
  lookupTxt(name: string, zone?: string, options: { queryTimeout?: number } = {}): Promise<LookupAnswer> {
    return this.#lookup(
      'TXT',
      name,
      zone,
      false,
      Math.min(this.queryTimeout, options.queryTimeout ?? this.queryTimeout),
    );
  }

  /** Stops every query in flight (they fail with `MEF_RBL_UNAVAILABLE`). */
  cancel(): void {
    this.#resolver.cancel();
  }

  #lookup(
    type: 'A' | 'TXT',
    name: string,
    zone: string | undefined,
    fresh: boolean,
    timeout: number,
  ): Promise<LookupAnswer> {
    const key = `${type}:${name.toLowerCase()}`;
    // A fresh lookup (a health probe) bypasses the cache and the coalescing.
    if (fresh) return this.#resolve(type, key, name, zone, true, timeout);
    const pending = this.#inflight.get(key);
    if (pending) return pending.then((a) => ({ records: a.records, cached: true }));
    const p = this.#resolve(type, key, name, zone, false, timeout).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #resolve(
    type: 'A' | 'TXT',
    key: string,
    name: string,
    zone: string | undefined,
    fresh: boolean,
    timeout: number,
  ): Promise<LookupAnswer> {
    if (this.#cache && !fresh) {
      let hit: CachedAnswer | undefined;
      try {
        hit = await this.#cache.get(key);
      } catch {
        hit = undefined; // a shared cache that is down costs a query, not a failure
      }
      if (hit && Array.isArray(hit.records)) {
        this.stats.cacheHits++;
        return { records: hit.records, cached: true };
      }
    }
    let records: string[];
    let ttl: number;
    try {
      if (type === 'A') {
        const rs = await this.#withDeadline(
          name,
          () => this.#resolver.resolve4(name, { ttl: true }),
          timeout,
        );
        records = rs.map((r) => r.address);
        ttl = rs.reduce((m, r) => Math.min(m, r.ttl), Number.POSITIVE_INFINITY);
      } else {
        const rs = await this.#withDeadline(name, () => this.#resolver.resolveTxt(name), timeout);
        records = rs.map((chunks) => chunks.join(''));
        ttl = this.#txtTtl;
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && NEGATIVE.has(code)) {
        records = [];
        ttl = this.negativeTtl(zone);
      } else {
        throw err;
      }
    }
    if (!Number.isFinite(ttl)) ttl = this.#negativeTtl;
    ttl = Math.min(this.#maxTtl, Math.max(this.#minTtl, ttl));
    if (this.#cache && !fresh && ttl > 0) {
      try {
        await this.#cache.set(key, { records }, ttl);
      } catch {
        // a shared cache that is down only costs later queries
      }
    }
    return { records, cached: false };
  }

  /**
   * Runs one query inside a concurrency slot, bounded by the deadline (queueing included).
   * While no answer has come, the query is sent again every `timeout / tries` ms: a lost
   * datagram costs part of the budget, not the lookup, and a late answer to an earlier send
   * still counts (c-ares' own retransmits drop those, so c-ares is left at one try).
   */
  #withDeadline<T>(name: string, run: () => Promise<T>, timeout = this.queryTimeout): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let free: (() => void) | undefined;
      let resend: NodeJS.Timeout | undefined;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        if (resend) clearTimeout(resend);
        free?.();
      };
      const timer = setTimeout(() => {
        finish();
        this.stats.timeouts++;
        reject(new RblError('MEF_RBL_TIMEOUT', `No DNS answer for ${name} within ${timeout} ms`));
      }, timeout);
      this.#limiter.enter((release) => {
        if (settled) {
          release();
          return;
        }
        free = release;
        const interval = timeout / this.#tries;
        let sent = 0;
        let pending = 0;
        const attempt = () => {
          sent++;
          pending++;
          this.stats.queries++;
          if (sent < this.#tries) resend = setTimeout(attempt, interval);
          run().then(
            (value) => {
              pending--;
              if (settled) return;
              finish();
              resolve(value);
            },
            (err: unknown) => {
              pending--;
              if (settled) return;
              const code = (err as { code?: unknown }).code;
              if (typeof code === 'string' && NEGATIVE.has(code)) {
                finish();
                reject(err); // an answer: the name is not listed
                return;
              }
              // Another send may still be answered.
              if (pending > 0 || sent < this.#tries) return;
              finish();
              if (code === 'ETIMEOUT') {
                this.stats.timeouts++;
                reject(
                  new RblError('MEF_RBL_TIMEOUT', `No DNS answer for ${name} within ${timeout} ms`, {
                    cause: err,
                  }),
                );
                return;
              }
              this.stats.failures++;
              reject(
                new RblError('MEF_RBL_UNAVAILABLE', `DNS lookup of ${name} failed: ${String(code ?? err)}`, {
                  cause: err,
                }),
              );
            },
          );
        };
        attempt();
      });
    });
  }
}
