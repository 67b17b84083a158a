import { promises as dns } from 'node:dns';
import { checkDnsServers, checkNumber, invalidOption } from '@mef/core';

/** The resolver function mailauth calls: `(name, rrtype)` answers as `dns.promises.resolve` does. */
export type DnsResolveFunction = (name: string, rrtype: string) => Promise<unknown>;

/** Options of {@link createResolver}. */
export interface AuthResolverOptions {
  /**
   * The DNS servers to ask, as IP literals with an optional port: `127.0.0.1:5353`,
   * `[::1]:53`. Required: the system resolver is never used.
   */
  servers: readonly string[];
  /** Most time one lookup may take, in ms (default 2,000). */
  queryTimeout?: number;
  /** How many times a query is sent within the `queryTimeout` (default 2). */
  tries?: number;
}

/** A resolver bound to explicit servers, with a deadline on each lookup. */
export interface AuthResolver {
  readonly servers: readonly string[];
  readonly queryTimeout: number;
  /** Looks `name` up; rejects with `code` `ETIMEOUT` after the `queryTimeout`, `ECANCELLED` on abort. */
  resolve(name: string, rrtype: string, signal?: AbortSignal): Promise<unknown>;
  /** Stops every query in flight. */
  cancel(): void;
}

const TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA', 'NAPTR']);

function dnsError(code: string, message: string, cause?: unknown): Error & { code: string } {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  err.code = code;
  return err;
}

/**
 * Builds the resolver the plugin gives mailauth: Node's `dns.promises.Resolver` with
 * `setServers`, so lookups go only to the servers named, each within its own deadline.
 */
export function createResolver(options: AuthResolverOptions): AuthResolver {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an options object');
  const list = checkDnsServers(options.servers);
  const queryTimeout = checkNumber('queryTimeout', options.queryTimeout, { min: 1 }) ?? 2000;
  const tries = checkNumber('tries', options.tries, { min: 1, max: 10, integer: true }) ?? 2;
  // c-ares retries within our deadline; the deadline below bounds the whole lookup.
  const resolver = new dns.Resolver({ timeout: Math.max(1, Math.floor(queryTimeout / tries)), tries });
  resolver.setServers(list);

  return {
    servers: list,
    queryTimeout,
    resolve(name, rrtype, signal) {
      const type = String(rrtype).toUpperCase();
      if (!TYPES.has(type)) {
        return Promise.reject(dnsError('ENOTIMP', `DNS type ${JSON.stringify(rrtype)} is not supported`));
      }
      if (signal?.aborted) return Promise.reject(dnsError('ECANCELLED', `Lookup of ${name} cancelled`));
      return new Promise((resolve, reject) => {
        let done = false;
        const finish = () => {
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        const onAbort = () => {
          if (done) return;
          finish();
          reject(dnsError('ECANCELLED', `Lookup of ${name} cancelled`));
        };
        const timer = setTimeout(() => {
          if (done) return;
          finish();
          reject(dnsError('ETIMEOUT', `No DNS answer for ${type} ${name} within ${queryTimeout} ms`));
        }, queryTimeout);
        signal?.addEventListener('abort', onAbort, { once: true });
        resolver.resolve(name, type).then(
          (answer: unknown) => {
            if (done) return;
            finish();
            resolve(answer);
          },
          (err: unknown) => {
            if (done) return;
            finish();
            reject(err);
          },
        );
      });
    },
    cancel() {
      resolver.cancel();
    },
  };
}
