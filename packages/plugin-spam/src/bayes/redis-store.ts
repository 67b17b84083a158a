import { SpamError } from '../errors.js';
import { connectRedis } from '../redis.js';
import {
  type BayesStore,
  dayOf,
  type ExpireOptions,
  type Label,
  type LearnOutcome,
  type StoreTotals,
  type Token,
  type TokenCounts,
} from './store.js';

/**
 * The part of an ioredis client this store uses. Any ioredis 5 `Redis` or `Cluster` fits
 * (keys of one model share a hash tag, so a cluster keeps them on one slot).
 */
export interface RedisClientLike {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  hscan(key: string, cursor: string, countToken: 'COUNT', count: number): Promise<[string, string[]]>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  quit?(): Promise<unknown>;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected ioredis client (shared with the host), or... */
  readonly client?: RedisClientLike;
  /** ...a `redis://` URL: the store then makes its own ioredis client (ioredis must be installed). */
  readonly url?: string;
  /** Key prefix; relays that share a model use the same one. Default `mef:bayes`. */
  readonly prefix?: string;
  /** Tokens asked per HMGET. Default 1,000. */
  readonly batch?: number;
  /** The clock tokens are dated with, in ms since 1970. Default `Date.now`. */
  readonly now?: () => number;
}

// Learning is one script, so two relays learning at once never count a message twice.
// KEYS: seen, spam counts, ham counts, totals, days. ARGV: label, digest, day, tokens...
const LEARN = `
local prev = redis.call('HGET', KEYS[1], ARGV[2])
if prev == ARGV[1] then return 'duplicate' end
local function apply(label, delta)
  local key = label == 'spam' and KEYS[2] or KEYS[3]
  for i = 4, #ARGV do
    local n = redis.call('HINCRBY', key, ARGV[i], delta)
    if n <= 0 then redis.call('HDEL', key, ARGV[i]) end
    if delta > 0 then redis.call('HSET', KEYS[5], ARGV[i], ARGV[3]) end
  end
  local t = redis.call('HINCRBY', KEYS[4], label, delta)
  if t < 0 then redis.call('HSET', KEYS[4], label, 0) end
end
if prev then apply(prev, -1) end
apply(ARGV[1], 1)
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
if prev then return 'relearned' end
return 'learned'
`;

const FORGET = `
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if not prev then return 0 end
local key = prev == 'spam' and KEYS[2] or KEYS[3]
for i = 2, #ARGV do
  local n = redis.call('HINCRBY', key, ARGV[i], -1)
  if n <= 0 then redis.call('HDEL', key, ARGV[i]) end
end
local t = redis.call('HINCRBY', KEYS[4], prev, -1)
if t < 0 then redis.call('HSET', KEYS[4], prev, 0) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/**
 * A Bayes store in Redis, so several relays share one model: token counts in two hashes
 * (spam, ham), totals in a third, learned message digests in a fourth. Learning and
 * forgetting run as Lua scripts (atomic); classification reads with HMGET in batches.
 */
export class RedisStore implements BayesStore {
  private client: RedisClientLike | undefined;
  private connecting: Promise<RedisClientLike> | undefined;
  private readonly own: boolean;
  private readonly keys: [string, string, string, string, string];
  private readonly now: () => number;
  private readonly batch: number;
  private readonly url: string | undefined;

  constructor(options: RedisStoreOptions) {
    if (!options.client && !options.url) {
      throw new TypeError('Invalid option client: expected an ioredis client or a url, got neither');
    }
    this.client = options.client;
    this.url = options.url;
    this.own = !options.client;
    const p = `{${options.prefix ?? 'mef:bayes'}}`;
    this.keys = [`${p}:seen`, `${p}:spam`, `${p}:ham`, `${p}:totals`, `${p}:days`];
    this.now = options.now ?? Date.now;
    this.batch = options.batch ?? 1000;
  }

  private async redis(): Promise<RedisClientLike> {
    if (this.client) return this.client;
    this.connecting ??= connectRedis<RedisClientLike>(
      this.url as string,
      'RedisStore',
      'MEF_SPAM_BAYES_STORE',
    ).then((c) => {
      this.client = c;
      return c;
    });
    return this.connecting;
  }

  private wrap<T>(what: string, p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      throw err instanceof SpamError
        ? err
        : new SpamError('MEF_SPAM_BAYES_STORE', `Redis ${what} failed: ${String(err)}`, { cause: err });
    });
  }

  async counts(tokens: readonly Token[]): Promise<TokenCounts[]> {
    const r = await this.redis();
    const out: TokenCounts[] = [];
    for (let i = 0; i < tokens.length; i += this.batch) {
      const slice = tokens.slice(i, i + this.batch).map(String);
      const [s, h] = await this.wrap(
        'read',
        Promise.all([r.hmget(this.keys[1], ...slice), r.hmget(this.keys[2], ...slice)]),
      );
      for (let j = 0; j < slice.length; j++) out.push({ spam: Number(s[j] ?? 0), ham: Number(h[j] ?? 0) });
    }
    return out;
  }

  async totals(): Promise<StoreTotals> {
    const r = await this.redis();
    const [spam, ham] = await this.wrap('read', r.hmget(this.keys[3], 'spam', 'ham'));
    return { spam: Number(spam ?? 0), ham: Number(ham ?? 0) };
  }

  async learn(digest: string, tokens: readonly Token[], label: Label): Promise<LearnOutcome> {
    const r = await this.redis();
    const distinct = [...new Set(tokens)].map(String);
    const day = dayOf(this.now());
    const out = await this.wrap('learn', r.eval(LEARN, 5, ...this.keys, label, digest, day, ...distinct));
    return String(out) as LearnOutcome;
  }

  async forget(digest: string, tokens: readonly Token[]): Promise<boolean> {
    const r = await this.redis();
    const distinct = [...new Set(tokens)].map(String);
    const out = await this.wrap('forget', r.eval(FORGET, 4, ...this.keys.slice(0, 4), digest, ...distinct));
    return Number(out) === 1;
  }

  /**
   * Drops tokens no message was learned with for `maxAgeDays` (hapaxes after
   * `hapaxMaxAgeDays`), walking the token dates with HSCAN in batches. A token learned by an
   * older version has no date and is not expired until a message with it is learned again.
   * Message totals stay.
   */
  async expire(options: ExpireOptions): Promise<number> {
    const r = await this.redis();
    const today = dayOf(this.now());
    const cutoff = today - options.maxAgeDays;
    const hapaxCutoff = today - (options.hapaxMaxAgeDays ?? options.maxAgeDays);
    const [, spamKey, hamKey, , daysKey] = this.keys;
    let dropped = 0;
    let cursor = '0';
    // Bounded: HSCAN visits every field once per full cycle; a cap guards a hash that keeps growing.
    for (let round = 0; round < 1_000_000; round++) {
      const [next, flat] = await this.wrap('expire', r.hscan(daysKey, cursor, 'COUNT', this.batch));
      const old: string[] = [];
      const maybeHapax: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const day = Number(flat[i + 1]);
        if (day < cutoff) old.push(flat[i] as string);
        else if (day < hapaxCutoff) maybeHapax.push(flat[i] as string);
      }
      if (maybeHapax.length) {
        const [s, h] = await this.wrap(
          'expire',
          Promise.all([r.hmget(spamKey, ...maybeHapax), r.hmget(hamKey, ...maybeHapax)]),
        );
        maybeHapax.forEach((t, i) => {
          if (Number(s[i] ?? 0) + Number(h[i] ?? 0) <= 1) old.push(t);
        });
      }
      if (old.length) {
        await this.wrap(
          'expire',
          Promise.all([r.hdel(spamKey, ...old), r.hdel(hamKey, ...old), r.hdel(daysKey, ...old)]),
        );
        dropped += old.length;
      }
      cursor = next;
      if (cursor === '0') break;
    }
    return dropped;
  }

  /** Closes the client when the store made it (a client passed in belongs to the host). */
  async close(): Promise<void> {
    if (this.own && this.client?.quit) await this.client.quit();
  }
}
