/**
 * `mef relay`'s worker threads (`relay.threads`): the binary started as a thread of core's
 * `ThreadPool` builds the filters' message stages from the relay's configuration and serves
 * the message phase (see `serveRelayThread` of @mef/relay).
 */

import { workerData } from 'node:worker_threads';
import { ThreadPool } from '@mef/core/hosts';
import { type RelayConfig, serveRelayThread } from '@mef/relay';
import { modelExists } from './config.js';

const KIND = 'mef-relay-thread';

/** A pool of `size` threads for `config`'s message phase, running `script` (the binary). */
export function relayThreads(script: URL, config: RelayConfig, size: number): ThreadPool {
  return new ThreadPool({ size, file: script, workerData: { kind: KIND, config } });
}

/** True in a thread `relayThreads` started. */
export function isRelayThread(): boolean {
  return (workerData as { kind?: unknown } | null)?.kind === KIND;
}

/** The thread's side: the message stages, serving the messages the pool sends. */
export function serveRelayThreadHere(): void {
  const { config } = workerData as { config: RelayConfig };
  serveRelayThread(config, { exists: modelExists });
}
