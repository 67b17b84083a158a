import { SpamError } from '../errors.js';
import { connectRedis } from '../redis.js';
import type { BayesStore, Label, LearnOutcome, StoreTotals, Token, TokenCounts } from './store.js';

/**
 * The part of an ioredis client this store uses. Any ioredis 5 `Redis` or `Cluster` fits
 * (keys of one model share a hash tag, so a cluster keeps them on one slot).
 */
export interface RedisClientLike {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
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
}

// Learning is one script, so two relays learning at once never count a message twice.
// KEYS: seen, spam counts, ham counts, totals. ARGV: label, digest, tokens...
const LEARN = `
local prev = redis.call('HGET', KEYS[1], ARGV[2])
if prev == ARGV[1] then return 'duplicate' end
local function apply(label, delta)
  local key = label == 'spam' and KEYS[2] or KEYS[3]
  for i = 3, #ARGV do
    local n = redis.call('HINCRBY', key, ARGV[i], delta)
    if n <= 0 then redis.call('HDEL', key, ARGV[i]) end
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
  private readonly keys: [string, string, string, string];
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
    this.keys = [`${p}:seen`, `${p}:spam`, `${p}:ham`, `${p}:totals`];
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
    const out = await this.wrap('learn', r.eval(LEARN, 4, ...this.keys, label, digest, ...distinct));
    return String(out) as LearnOutcome;
  }

  async forget(digest: string, tokens: readonly Token[]): Promise<boolean> {
    const r = await this.redis();
    const distinct = [...new Set(tokens)].map(String);
    const out = await this.wrap('forget', r.eval(FORGET, 4, ...this.keys, digest, ...distinct));
    return Number(out) === 1;
  }

  /** Closes the client when the store made it (a client passed in belongs to the host). */
  async close(): Promise<void> {
    if (this.own && this.client?.quit) await this.client.quit();
  }
}
