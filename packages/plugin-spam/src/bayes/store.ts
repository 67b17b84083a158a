/** A token: its readable string, or its 52-bit id (what the plugin uses, see `tokenIds`). */
export type Token = string | number;

/** Options of a store's `expire`. */
export interface ExpireOptions {
  /** Tokens no message was learned with for this many days are dropped. */
  readonly maxAgeDays: number;
  /** Hapaxes (tokens of a single learned message) go sooner: after this many days. Default `maxAgeDays`. */
  readonly hapaxMaxAgeDays?: number;
}

/** The day number (days since 1970, UTC) of a time in ms. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/** Which class a message is learned as. */
export type Label = 'spam' | 'ham';

/** The outcome of learning one message. */
export type LearnOutcome = 'learned' | 'duplicate' | 'relearned';

/** Per-token counts: in how many spam and ham messages the token occurred. */
export interface TokenCounts {
  readonly spam: number;
  readonly ham: number;
}

/** How many messages of each class the store has learned. */
export interface StoreTotals {
  readonly spam: number;
  readonly ham: number;
}

/**
 * Where the Bayes model lives. Every method may be async (Redis) or answer at once
 * (memory). `learn` is idempotent per message digest: learning the same message again with
 * the same label changes nothing; with the other label it moves the message (unlearn, then
 * learn), as SpamAssassin's `sa-learn` does.
 */
export interface BayesStore {
  /** Counts for each token, in the order asked (zero counts for unknown tokens). */
  counts(tokens: readonly Token[]): Promise<TokenCounts[]>;
  /** A synchronous `counts`, for stores that hold the model in memory. */
  countsSync?(tokens: readonly Token[]): TokenCounts[];
  /** Counts written into two arrays, for stores in memory (no object per token). */
  countsInto?(tokens: readonly Token[], spam: Float64Array, ham: Float64Array): void;
  totals(): Promise<StoreTotals>;
  /** Learns a message's distinct tokens under its digest. */
  learn(digest: string, tokens: readonly Token[], label: Label): Promise<LearnOutcome>;
  /** Forgets a learned message; false when the digest is unknown. */
  forget(digest: string, tokens: readonly Token[]): Promise<boolean>;
  /** Drops tokens by age (see {@link ExpireOptions}); resolves with how many went. */
  expire?(options: ExpireOptions): Promise<number>;
  /** Releases connections or files. */
  close?(): Promise<void>;
}
