import type { EnvelopeAddress, TransactionContext } from '../context.js';
import { MefError } from '../errors.js';
import type { StageContext } from '../plugin.js';
import { emptyFindings, type FindingSet, mergeFindings, Recorder } from '../recorder.js';
import { raceTimeout, TIMED_OUT } from '../timeout.js';
import type { Scope, StageError, StageErrorKind, StageTimings, TimedPhase, Verdict } from '../verdict.js';
import { LazyAbort } from './lazy-abort.js';
import type { RegisteredStage } from './registration.js';
import type { EngineRuntime } from './runtime.js';

/** How an error thrown by a stage is recorded. */
export function errorInfo(err: unknown): { code: string; message: string; kind: StageErrorKind } {
  if (err instanceof MefError) return { code: err.code, message: err.message, kind: err.kind };
  if (err instanceof Error) return { code: 'MEF_CORE_STAGE_FAILED', message: err.message, kind: 'exception' };
  return { code: 'MEF_CORE_STAGE_FAILED', message: String(err), kind: 'exception' };
}

/** A failure of a stage, with the disposition its policy gives. */
export function stageError(stage: RegisteredStage, err: unknown): StageError {
  return { stage: stage.name, ...errorInfo(err), policy: stage.onError, disposition: stage.onError };
}

/** The error a stage that ran out of time records (and its signal is aborted with). */
export function timeoutError(stage: RegisteredStage, what: string): MefError {
  return new MefError('MEF_CORE_TIMEOUT', `stage ${stage.name} ${what} ${stage.stageTimeout} ms`, {
    kind: 'timeout',
  });
}

/** Stage times of one phase, ms by stage name (unrounded; added up over repeated calls). */
export type StageTimes = Record<string, number>;

/** Stage times by phase, as a transaction or a connection collects them. */
export type PhaseTimes = { [P in TimedPhase]?: StageTimes };

/** An empty set of stage times (no prototype: a stage may be named `constructor`). */
export function newTimes(): StageTimes {
  return Object.create(null) as StageTimes;
}

/** Adds `ms` to a stage's time. */
export function addTime(times: StageTimes, stage: string, ms: number): void {
  times[stage] = (times[stage] ?? 0) + ms;
}

/** The verdict's `timings`: a rounded copy (0.001 ms) of the phases that ran a stage. */
export function verdictTimings(phases: PhaseTimes): StageTimings {
  const out: { [P in TimedPhase]?: Record<string, number> } = {};
  for (const phase of Object.keys(phases) as TimedPhase[]) {
    const times = phases[phase] as StageTimes;
    const names = Object.keys(times);
    if (names.length === 0) continue;
    const rounded = newTimes();
    for (const name of names) rounded[name] = Math.round((times[name] as number) * 1000) / 1000;
    out[phase] = rounded;
  }
  return out;
}

/** One envelope phase to run on every stage, in order. */
export type PhaseRun = {
  readonly runtime: EngineRuntime;
  /** Where the phase's findings are added; the phase's own set is returned either way. */
  readonly into?: FindingSet;
  /** Stages skipped so far; a stage may add to it. */
  readonly skipped: Map<string, string>;
  /** The context of the moment each stage runs (it changes as stages record). */
  readonly context: () => TransactionContext;
  /** What a forced disposition applies to when the stage names no scope. */
  readonly scope: Scope;
  /** Where each stage's time is added (one `performance.now()` pair per stage run). */
  readonly times?: StageTimes;
} & (
  | { readonly phase: 'connect' | 'helo' | 'mailFrom' | 'close' }
  | { readonly phase: 'rcptTo'; readonly recipient: EnvelopeAddress }
  | { readonly phase: 'scored'; readonly verdict: Verdict }
);

/** Calls the phase's hook of one stage with the context that phase gives. */
function callHook(stage: RegisteredStage, ctx: StageContext, run: PhaseRun): unknown {
  const p = stage.plugin;
  switch (run.phase) {
    case 'rcptTo':
      return p.rcptTo?.({ ...ctx, recipient: run.recipient });
    case 'scored':
      return p.scored?.({ ...ctx, verdict: run.verdict });
    default:
      return p[run.phase]?.(ctx);
  }
}

/**
 * Runs an envelope hook on every stage, in order, each bounded by its timeout; a stage's
 * recorder is sealed when its hook settles or its time runs out. A stage that forces reject
 * or tempfail ends the phase: later stages of the phase do not run.
 */
export async function runPhase(run: PhaseRun): Promise<FindingSet> {
  const { runtime, skipped } = run;
  const phaseSet = emptyFindings();
  const recipient = run.phase === 'rcptTo' ? run.recipient.address : undefined;
  for (const stage of runtime.stages) {
    if (!stage.plugin[run.phase] || skipped.has(stage.name)) continue;
    const recorder = new Recorder({
      stage: stage.name,
      into: phaseSet,
      policy: stage.onError,
      scope: run.scope,
      skipInto: skipped,
      ...(recipient !== undefined ? { recipient } : {}),
      onLate: runtime.onLate,
    });
    const abort = new LazyAbort();
    const started = performance.now();
    const tx = run.context();
    const ctx: StageContext = {
      tx,
      state: tx.state,
      findings: recorder,
      get signal() {
        return abort.signal;
      },
      log: runtime.log,
    };
    try {
      const outcome = await raceTimeout(
        Promise.resolve().then(() => callHook(stage, ctx, run)),
        stage.stageTimeout,
      );
      if (outcome === TIMED_OUT) {
        const err = timeoutError(stage, 'timed out after');
        abort.abort(err);
        phaseSet.errors.push(stageError(stage, err));
      }
    } catch (err) {
      phaseSet.errors.push(stageError(stage, err));
    } finally {
      recorder.seal();
      if (run.times) addTime(run.times, stage.name, performance.now() - started);
    }
    if (phaseSet.forced.some((f) => f.disposition === 'reject' || f.disposition === 'tempfail')) break;
  }
  if (run.into) mergeFindings(run.into, phaseSet);
  return phaseSet;
}
