import type { TransactionContext } from '../context.js';
import type { MessagePass } from '../message/pipeline.js';
import { StageReader } from '../message/stage-reader.js';
import type { MessageContext } from '../plugin.js';
import { type FindingSet, Recorder } from '../recorder.js';
import { raceTimeout, TIMED_OUT } from '../timeout.js';
import { LazyAbort } from './lazy-abort.js';
import type { RegisteredStage } from './registration.js';
import { addTime, type StageTimes, stageError, timeoutError } from './run-stage.js';
import type { EngineRuntime } from './runtime.js';

/**
 * The reason a finished stage's signal is aborted with: the same AbortError as `abort()` gives,
 * made once (an AbortError made per stage and transaction captures a stack trace each time).
 */
const ENDED = new DOMException('The transaction ended', 'AbortError');

/** A stage at work on the message: its reader of the pass, its recorder, and when it is done. */
export interface MessageStage {
  readonly stage: RegisteredStage;
  readonly reader: StageReader;
  readonly recorder: Recorder;
  readonly done: Promise<void>;
  readonly abort: LazyAbort;
  /** When the stage was done (`performance.now()`), once it is. */
  readonly doneAt: { at?: number };
}

/** What starting the message stages needs. */
export interface MessageStart {
  readonly runtime: EngineRuntime;
  readonly pass: MessagePass;
  readonly findings: FindingSet;
  readonly skipped: Map<string, string>;
  readonly context: TransactionContext;
  /** Resolves when the pass has ended. */
  readonly passEnded: Promise<void>;
}

/**
 * Calls every message hook, in order: each asks for its views before its first `await`.
 * A stage is done when its hook has settled, the pass has ended, and every part handler it
 * registered (at any time before the end) has settled.
 */
export function startMessageStages(start: MessageStart): MessageStage[] {
  const { runtime, pass, findings, skipped, context } = start;
  const started: MessageStage[] = [];
  for (const stage of runtime.stages) {
    if (!stage.plugin.message || skipped.has(stage.name)) continue;
    const recorder = new Recorder({
      stage: stage.name,
      into: findings,
      policy: stage.onError,
      scope: 'transaction',
      skipInto: skipped,
      onLate: runtime.onLate,
    });
    const abort = new LazyAbort();
    const reader = new StageReader(stage.name, stage.stageTimeout, (_kind, err) => {
      findings.errors.push(stageError(stage, err));
      recorder.seal();
      abort.abort(err);
    });
    const ctx: MessageContext = {
      tx: context,
      state: context.state,
      findings: recorder,
      get signal() {
        return abort.signal;
      },
      log: runtime.log,
      message: pass.view(reader),
    };
    let result: unknown;
    try {
      result = stage.plugin.message(ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    const hook = Promise.resolve(result).catch((err: unknown) => reader.fail('exception', err));
    const doneAt: { at?: number } = {};
    const done = (async () => {
      await hook;
      await start.passEnded;
      await reader.settled();
      doneAt.at = performance.now();
    })();
    started.push({ stage, reader, recorder, done, abort, doneAt });
  }
  return started;
}

/**
 * After the last byte each stage gets its own timeout to finish what it started (a scanner
 * replies after the last byte it was sent); then its recorder is sealed and it is taken out.
 * Each stage's time from `lastByte` until it was done (or timed out) is added to `times`.
 */
export async function finishMessageStages(
  stages: readonly MessageStage[],
  lastByte: number,
  times: StageTimes,
): Promise<void> {
  await Promise.all(
    stages.map(async ({ stage, reader, recorder, done, abort, doneAt }) => {
      if ((await raceTimeout(done, stage.stageTimeout)) === TIMED_OUT) {
        reader.fail('timeout', timeoutError(stage, 'did not finish within'));
      }
      addTime(times, stage.name, Math.max(0, (doneAt.at ?? performance.now()) - lastByte));
      recorder.seal();
      reader.detach();
      abort.abort(ENDED);
    }),
  );
}
