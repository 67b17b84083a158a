/** The shapes the `eval:` function modules share. */
import type { SaMessage } from './message.js';

/** What an eval function can read. */
export interface SaEvalContext {
  readonly message: SaMessage;
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

/** An eval function: the message context and the call's arguments in, 0 (miss) or a hit count out. */
export type EvalFn = (ctx: SaEvalContext, args: readonly string[]) => number;
