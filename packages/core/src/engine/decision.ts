import type { TransactionContext } from '../context.js';
import type { RecordedFindings } from '../recorder.js';
import { type DecideInput, decide, type StageTimings, type Verdict } from '../verdict.js';
import type { EngineRuntime } from './runtime.js';

const NO_THRESHOLDS = Object.freeze({ reject: null, addHeader: null, greylist: null });

/** Verdict of an envelope phase: forced dispositions and errors only, no score action. */
export function phaseVerdict(
  runtime: EngineRuntime,
  set: RecordedFindings,
  tx: TransactionContext,
  timings?: StageTimings,
): Verdict {
  const policy = runtime.policyFor(tx);
  const v = decide({
    symbols: set.symbols,
    forced: set.forced,
    errors: set.errors,
    mutations: [],
    thresholds: NO_THRESHOLDS,
    severity: runtime.severity,
    monitor: policy.monitor,
  });
  return {
    ...v,
    score: { ...v.score, thresholds: policy.thresholds },
    ...(timings ? { timings } : {}),
  };
}

/** What the message verdict is decided from: the connection's findings, then the transaction's. */
export function messageInput(
  runtime: EngineRuntime,
  tx: TransactionContext,
  connection: RecordedFindings,
  transaction: RecordedFindings,
): DecideInput {
  const policy = runtime.policyFor(tx);
  return {
    symbols: [...connection.symbols, ...transaction.symbols],
    forced: [...connection.forced, ...transaction.forced],
    errors: [...connection.errors, ...transaction.errors],
    mutations: [...connection.mutations, ...transaction.mutations],
    thresholds: policy.thresholds,
    severity: runtime.severity,
    monitor: policy.monitor,
    spamHeaders: runtime.options.spamHeaders !== false,
  };
}
