/** What the host should do with the mail. */
export type Disposition = 'accept' | 'tempfail' | 'reject' | 'discard' | 'quarantine';

/** What a reply applies to: the whole connection, the transaction, or one recipient. */
export type Scope = 'connection' | 'transaction' | 'recipient';

/** The failure policy: one name everywhere (stage option, engine default, plugin default). */
export type ErrorPolicy = 'tempfail' | 'accept' | 'reject';

/** The action a score produced, rspamd style. */
export type ScoreAction = 'no_action' | 'greylist' | 'add_header' | 'reject';

/** An SMTP reply: basic code, RFC 3463 enhanced code, and text lines. */
export interface Reply {
  /** Three-digit SMTP code, such as 250, 451 or 554. */
  readonly code: number;
  /** Enhanced status code, such as `5.7.1`. */
  readonly enhanced: string;
  /** Text lines, without codes; at least one. */
  readonly lines: readonly string[];
}

/** Score thresholds; `null` switches an action off. */
export interface Thresholds {
  readonly reject: number | null;
  readonly addHeader: number | null;
  readonly greylist: number | null;
}

/** Default thresholds: reject at 15, add header at 6, greylist at 4. */
export const defaultThresholds: Thresholds = Object.freeze({ reject: 15, addHeader: 6, greylist: 4 });

/** One piece of evidence: a named symbol with a score (rspamd style). */
export interface SymbolHit {
  /** UPPER_SNAKE name, stable across versions, such as `CLAMAV_VIRUS`. */
  readonly name: string;
  /** Score this hit adds (may be negative or 0). */
  readonly score: number;
  /** The stage that recorded it. */
  readonly stage: string;
  /** Group, such as `antivirus`, `spam` or `rbl`. */
  readonly group?: string;
  /** Options: the details (virus name, listed IP, matched URL...). */
  readonly options?: readonly string[];
  /** Human description. */
  readonly description?: string;
}

/** A header change, applied in order, only when the mail is accepted or quarantined. */
export type HeaderMutation =
  | { readonly op: 'add'; readonly name: string; readonly value: string; readonly stage: string }
  | { readonly op: 'prepend'; readonly name: string; readonly value: string; readonly stage: string }
  | {
      readonly op: 'set';
      readonly name: string;
      readonly value: string;
      readonly stage: string;
      /** Which occurrence (1-based) to change; default: all are replaced by one. */
      readonly index?: number;
    }
  | { readonly op: 'remove'; readonly name: string; readonly stage: string; readonly index?: number }
  | { readonly op: 'subject'; readonly prefix: string; readonly stage: string };

/** How a stage failed. */
export type StageErrorKind = 'timeout' | 'unavailable' | 'protocol' | 'limit' | 'exception';

/** A failure of a stage, and what the failure policy made of it. */
export interface StageError {
  readonly stage: string;
  readonly kind: StageErrorKind;
  /** Stable error code, such as `MEF_CORE_TIMEOUT` or `MEF_AV_CLAMD_UNAVAILABLE`. */
  readonly code: string;
  readonly message: string;
  /** The policy that applied. */
  readonly policy: ErrorPolicy;
  /** The disposition the policy produced (accept means the failure only left a trace). */
  readonly disposition: Disposition;
}

/** A disposition a stage forced, independent of the score (a virus, a listed IP, a limit). */
export interface ForcedDisposition {
  readonly stage: string;
  readonly disposition: Disposition;
  readonly scope: Scope;
  /** For scope `recipient`: the recipient it applies to. */
  readonly recipient?: string;
  readonly reply?: Reply;
  readonly disconnect?: boolean;
  /** Short reason for logs and the monitor-mode tag. */
  readonly reason?: string;
}

/** The score part of a verdict. */
export interface ScoreResult {
  readonly value: number;
  readonly thresholds: Thresholds;
  readonly action: ScoreAction;
}

/** The phases whose stage times a verdict carries. */
export type TimedPhase = 'connect' | 'helo' | 'mailFrom' | 'rcptTo' | 'message' | 'scored';

/**
 * How long each stage took, in milliseconds (rounded to 0.001), by phase and then by stage
 * name. An envelope phase's time is the wall time of the stage's hook, from its call until it
 * settled or its timeout passed (the times of several RCPTs are added up). A message stage
 * runs while the data streams in, so its `message` time is what it added after the last byte:
 * from the end of the message until the stage was done (its hook and part handlers settled,
 * or its timeout passed). Stages that did not run in a phase are not named.
 */
export type StageTimings = { readonly [P in TimedPhase]?: Readonly<Record<string, number>> };

/** The engine's decision for a phase or a message. */
export interface Verdict {
  readonly disposition: Disposition;
  readonly scope: Scope;
  /** For scope `recipient`: which recipient. */
  readonly recipient?: string;
  /** Close the connection after the reply. */
  readonly disconnect: boolean;
  /** The reply to give; `null` means the host's ordinary reply for the disposition. */
  readonly reply: Reply | null;
  readonly score: ScoreResult;
  readonly symbols: readonly SymbolHit[];
  /** Header changes, in order; the host applies them only on accept or quarantine. */
  readonly mutations: readonly HeaderMutation[];
  readonly errors: readonly StageError[];
  /** The forced dispositions that went into the decision. */
  readonly forced: readonly ForcedDisposition[];
  /** Monitor mode was on: rejects were turned into tags. */
  readonly monitor: boolean;
  /** What the verdict would have been without monitor mode. */
  readonly wouldBe?: Disposition;
  /** True when the mail is classed as spam (a spam reject or a score at or above add-header). */
  readonly spam: boolean;
  /**
   * Each stage's time, set by the engine (`decide` alone gives none). A phase verdict names its
   * own phase; the message verdict names the transaction's phases: MAIL FROM, every RCPT, the
   * message and the scored phase.
   */
  readonly timings?: StageTimings;
}

/** Order of severity, most severe first. Configurable per engine. */
export const defaultSeverity: readonly Disposition[] = Object.freeze([
  'reject',
  'tempfail',
  'quarantine',
  'discard',
  'accept',
]);

/** Everything `decide` folds. */
export interface DecideInput {
  readonly symbols: readonly SymbolHit[];
  readonly forced: readonly ForcedDisposition[];
  readonly errors: readonly StageError[];
  readonly mutations: readonly HeaderMutation[];
  readonly thresholds?: Thresholds;
  readonly severity?: readonly Disposition[];
  readonly monitor?: boolean;
  /** Headers added when the score reaches add-header (default: `X-Spam: Yes`). */
  readonly spamHeaders?: boolean;
}

/** Works out the score action for a value. */
export function scoreAction(value: number, t: Thresholds): ScoreAction {
  if (t.reject !== null && value >= t.reject) return 'reject';
  if (t.addHeader !== null && value >= t.addHeader) return 'add_header';
  if (t.greylist !== null && value >= t.greylist) return 'greylist';
  return 'no_action';
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Folds findings into a verdict: forced dispositions first, then the score against the
 * thresholds, then failure-policy dispositions; the most severe wins. Monitor mode turns
 * every reject, discard, quarantine and greylist into accept with a tag, but keeps a
 * tempfail from a failing scanner (mail waits, it is not let through unscanned).
 */
export function decide(input: DecideInput): Verdict {
  const thresholds = input.thresholds ?? defaultThresholds;
  const severity = input.severity ?? defaultSeverity;
  const rank = (d: Disposition): number => {
    const i = severity.indexOf(d);
    return i === -1 ? severity.length : i;
  };
  const value = round(input.symbols.reduce((sum, s) => sum + s.score, 0));
  const action = scoreAction(value, thresholds);

  type Candidate = {
    disposition: Disposition;
    scope: Scope;
    recipient?: string;
    reply?: Reply;
    disconnect?: boolean;
    source: 'forced' | 'score' | 'error';
    reason?: string;
  };
  const candidates: Candidate[] = [];
  for (const f of input.forced) {
    const c: Candidate = { disposition: f.disposition, scope: f.scope, source: 'forced' };
    if (f.recipient !== undefined) c.recipient = f.recipient;
    if (f.reply !== undefined) c.reply = f.reply;
    if (f.disconnect !== undefined) c.disconnect = f.disconnect;
    if (f.reason !== undefined) c.reason = f.reason;
    candidates.push(c);
  }
  if (action === 'reject') {
    candidates.push({
      disposition: 'reject',
      scope: 'transaction',
      source: 'score',
      reply: { code: 554, enhanced: '5.7.1', lines: [`Message rejected as spam (score ${value})`] },
      reason: `score ${value} >= ${thresholds.reject}`,
    });
  }
  // The greylist action defers nothing by itself: a greylist stage (which remembers who
  // retried) forces the tempfail at the `scored` phase. Without one it is a mark on accepted mail.
  for (const e of input.errors) {
    if (e.disposition === 'accept') continue;
    candidates.push({
      disposition: e.disposition,
      scope: 'transaction',
      source: 'error',
      reply:
        e.disposition === 'tempfail'
          ? {
              code: 451,
              enhanced: '4.3.0',
              lines: [`Temporary failure in ${e.stage}, please try again later`],
            }
          : { code: 554, enhanced: '5.3.0', lines: [`Message refused: ${e.stage} failed`] },
      reason: `${e.stage}: ${e.code}`,
    });
  }

  let winner: Candidate | undefined;
  for (const c of candidates) {
    if (!winner || rank(c.disposition) < rank(winner.disposition)) winner = c;
  }

  const monitor = input.monitor === true;
  let mutations = [...input.mutations];
  let disposition: Disposition = winner?.disposition ?? 'accept';
  let wouldBe: Disposition | undefined;
  let reply: Reply | null = winner?.reply ?? null;
  let disconnect = winner?.disconnect === true;
  let scope: Scope = winner?.scope ?? 'transaction';

  const spam =
    action === 'reject' ||
    action === 'add_header' ||
    (winner?.source === 'score' && winner.disposition !== 'accept');

  if (monitor && winner && winner.source !== 'error' && disposition !== 'accept') {
    wouldBe = disposition;
    mutations.push({
      op: 'add',
      name: 'X-MEF-Monitor',
      value: `would ${disposition}${winner.reason ? ` (${winner.reason})` : ''}`,
      stage: 'engine',
    });
    disposition = 'accept';
    reply = null;
    disconnect = false;
    scope = 'transaction';
  }

  if (action === 'add_header' || (monitor && action === 'reject')) {
    if (input.spamHeaders !== false) {
      mutations.push({ op: 'add', name: 'X-Spam', value: 'Yes', stage: 'engine' });
    }
  }
  if (disposition === 'reject' || disposition === 'tempfail' || disposition === 'discard') {
    // Mutations only matter for mail that is handed on.
    mutations = [];
  }

  const verdict: Verdict = {
    disposition,
    scope,
    disconnect,
    reply,
    score: { value, thresholds, action },
    symbols: input.symbols,
    mutations,
    errors: input.errors,
    forced: input.forced,
    monitor,
    spam,
    ...(winner?.recipient !== undefined && scope === 'recipient' ? { recipient: winner.recipient } : {}),
    ...(wouldBe !== undefined ? { wouldBe } : {}),
  };
  return verdict;
}
