import type { StageContext } from '@mef/core';
import type { RblCheck } from './list-config.js';

/** One listing found in a transaction, for later stages (`ctx.state.rbl`). */
export interface RblListing {
  readonly zone: string;
  readonly check: RblCheck;
  readonly target: string;
  readonly symbols: readonly string[];
  readonly allowlist: boolean;
  readonly txt?: string;
}

/** What this plugin leaves in `ctx.state.rbl` for later stages. */
export interface RblState {
  /** Every listing found so far in this connection and transaction. */
  readonly listings: RblListing[];
  /** True once an allowlist listed the client, HELO or sender: this plugin's rejects are off. */
  allowlisted: boolean;
  /** Symbols recorded so far (each symbol counts once per transaction). */
  readonly recorded: Set<string>;
  /** A reject deferred to RCPT. */
  pendingRcpt?: PendingReject;
}

/** A reject found before RCPT, given at each RCPT. */
export interface PendingReject {
  readonly reply: { code: number; enhanced: string; text: string };
  readonly reason: string;
}

declare module '@mef/core' {
  interface TransactionState {
    /** What `@mef/plugin-rbl` found so far in this connection and transaction. */
    rbl?: RblState;
  }
}

/** The transaction's state; `fork` (at connect and MAIL FROM) starts a new one from the connection's. */
export function stateOf(ctx: StageContext, fork = false): RblState {
  const cur = ctx.state.rbl;
  if (cur && !fork) return cur;
  const next: RblState = {
    listings: [...(cur?.listings ?? [])],
    allowlisted: cur?.allowlisted ?? false,
    recorded: new Set(cur?.recorded ?? []),
    ...(cur?.pendingRcpt ? { pendingRcpt: cur.pendingRcpt } : {}),
  };
  ctx.state.rbl = next;
  return next;
}
