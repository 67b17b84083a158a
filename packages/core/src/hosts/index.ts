/**
 * What a host needs: the engine that runs the plugins through the SMTP phases, and the
 * mappers that turn a verdict into the host's answer (an SMTP reply, a Haraka return code,
 * milter actions). Plugin authors import from `@mef/core` instead.
 */

export type { Connection } from '../engine/connection.js';
export { createEngine, Engine } from '../engine/engine.js';
export {
  defaultLimitPolicy,
  type EngineOptions,
  type LimitPolicy,
  type Policy,
  type ScanEnvelope,
} from '../engine/options.js';
export type { Transaction } from '../engine/transaction.js';
export type { MessageStoreOptions } from '../message/store.js';
export type { RecordedFindings } from '../recorder.js';
export { type HarakaAnswer, harakaCodes, toHaraka } from './haraka.js';
export { type MilterAction, toMilter } from './milter.js';
export { defaultReply, formatReply, toSmtpReply } from './smtp-reply.js';
export { serveThread } from './thread-worker.js';
export {
  type FromThread,
  type ThreadEnvelope,
  ThreadPool,
  type ThreadPoolOptions,
  type ThreadResult,
  type ThreadScan,
  type ToThread,
} from './threads.js';
