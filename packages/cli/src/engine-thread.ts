/**
 * `mef milter`'s worker threads (`milter.threads`): the binary started as a thread of core's
 * `ThreadPool` builds its engine from the resolved configuration and serves the message phase.
 */

import { workerData } from 'node:worker_threads';
import { serveThread, ThreadPool } from '@mef/core/hosts';
import type { ResolvedConfig } from './config.js';
import { buildEngine } from './setup.js';

const KIND = 'mef-engine-thread';

/**
 * How many threads `milter.threads` asks for: none by default (measured: under Postfix the
 * hand-over costs more than the event loop gains, see bench/results/hosts.md); `auto` is 1 with
 * 2 or more CPUs, 0 with one.
 */
export function threadCount(setting: 'auto' | number | undefined, cpus: number): number {
  if (setting === undefined) return 0;
  return setting === 'auto' ? (cpus >= 2 ? 1 : 0) : setting;
}

/** A pool of `size` threads whose engines are built from `config`, running `script` (the binary). */
export function engineThreads(script: URL, config: ResolvedConfig, size: number): ThreadPool {
  return new ThreadPool({ size, file: script, workerData: { kind: KIND, config } });
}

/** True in a thread `engineThreads` started. */
export function isEngineThread(): boolean {
  return (workerData as { kind?: unknown } | null)?.kind === KIND;
}

/** The thread's side: its engine, serving the messages the pool sends. */
export function serveEngineThread(): void {
  const { config } = workerData as { config: ResolvedConfig };
  serveThread(buildEngine(config).engine);
}
