import { Readable } from 'node:stream';
import type { Engine, ScanEnvelope } from '@mef/core/hosts';
import { type InputItem, inputs } from './input.js';
import { isUnscanned, type ScanResult, Summary, TablePrinter, toResult } from './report.js';

/**
 * Runs `worker` over `items` with at most `concurrency` at once, and hands the results to
 * `emit` in input order. At most `window` items are started ahead of the oldest one not yet
 * emitted, so a slow message cannot make the results pile up without bound.
 */
export async function runOrdered<T, R>(
  items: AsyncIterable<T>,
  concurrency: number,
  worker: (item: T) => Promise<R>,
  emit: (result: R) => void,
  window = concurrency * 4,
): Promise<void> {
  const done = new Map<number, R>();
  let next = 0;
  let started = 0;
  let running = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  const flush = () => {
    while (done.has(next)) {
      const r = done.get(next) as R;
      done.delete(next);
      next++;
      emit(r);
    }
  };
  const waitTurn = async () => {
    while (running >= concurrency || started - next >= window) {
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  };
  for await (const item of items) {
    await waitTurn();
    if (failure) break;
    const index = started++;
    running++;
    worker(item)
      .then(
        (r) => {
          done.set(index, r);
          flush();
        },
        (err) => {
          failure ??= err;
        },
      )
      .finally(() => {
        running--;
        const w = wake;
        wake = undefined;
        w?.();
      });
  }
  while (running > 0) {
    await new Promise<void>((r) => {
      wake = r;
    });
  }
  if (failure) throw failure;
  flush();
}

export interface ScanRunOptions {
  readonly engine: Engine;
  readonly envelope: ScanEnvelope;
  readonly paths: readonly string[];
  /** Inside directories, only files with these name endings. */
  readonly extensions?: readonly string[];
  readonly json: boolean;
  readonly concurrency: number;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly stdin?: Readable;
  readonly width?: number;
  /** Scan with these instead of with `engine` in this thread (`mef scan --workers` passes its threads). */
  readonly pool?: ScanWorkers;
}

/** Scans run elsewhere, such as in worker threads: one message in, its result out. */
export interface ScanWorkers {
  scan(item: Extract<InputItem, { stream: AsyncIterable<Buffer> }>): Promise<ScanResult>;
}

/** Scans every message and prints the results; resolves with the exit code (0 or 1). */
export async function runScan(o: ScanRunOptions): Promise<number> {
  const summary = new Summary();
  const table = new TablePrinter(o.stdout, o.width);
  if (!o.json) table.header();
  const t0 = performance.now();
  type Out = { result: ScanResult } | { source: string; error: string };
  await runOrdered<InputItem, Out>(
    inputs(o.paths, {
      ...(o.stdin ? { stdin: o.stdin } : {}),
      ...(o.extensions ? { extensions: o.extensions } : {}),
    }),
    o.concurrency,
    async (item) => {
      if (item.error !== undefined) return { source: item.source, error: item.error };
      const start = performance.now();
      try {
        if (o.pool) return { result: await o.pool.scan(item) };
        const verdict = await o.engine.scan(item.stream as Readable, o.envelope);
        return { result: toResult(item.source, verdict, performance.now() - start) };
      } catch (err) {
        return { source: item.source, error: `scan failed: ${(err as Error).message}` };
      } finally {
        // Close what the engine did not read (an envelope reject stops before the message).
        if (item.stream instanceof Readable && !item.stream.readableEnded) item.stream.destroy();
      }
    },
    (out) => {
      if ('error' in out) {
        summary.unreadable++;
        o.stderr(`mef: ${out.source}: ${out.error}\n`);
        return;
      }
      summary.add(out.result);
      if (o.json) o.stdout(`${JSON.stringify(out.result)}\n`);
      else table.row(out.result);
      for (const e of out.result.errors) {
        if (e.policy === 'tempfail')
          o.stderr(`mef: ${out.result.source}: ${e.stage} failed: ${e.code}: ${e.message}\n`);
      }
    },
  );
  const ms = performance.now() - t0;
  if (!o.json) o.stdout(summary.format(ms));
  else if (summary.messages === 0 && summary.unreadable === 0) o.stderr('mef: no messages\n');
  return summary.unreadable > 0 || summary.failed > 0 ? 1 : 0;
}

export { isUnscanned };
