export * from './context.js';

/**
 * Shared, typed state for one transaction. Stages extend it by declaration merging so
 * that a later stage reads an earlier stage's results with types:
 *
 * ```ts
 * declare module '@mef/core' {
 *   interface TransactionState { rbl?: { listed: string[] } }
 * }
 * ```
 *
 * It is declared here, in the package entry, because TypeScript merges an augmentation only
 * into a declaration of the module itself, not into one re-exported with `export *`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by declaration merging
export interface TransactionState {}
export {
  Connection,
  createEngine,
  defaultLimitPolicy,
  Engine,
  type EngineOptions,
  type LimitPolicy,
  type Policy,
  type ScanEnvelope,
  Transaction,
} from './engine.js';
export * from './errors.js';
export type { AmbiguityKind } from './message/ambiguity.js';
export { HeaderBlock, type HeaderField } from './message/header-block.js';
export { defaultLimits, type LimitName, type Limits } from './message/pipeline.js';
export { type MimeReadingsReport, mimeReadings } from './message/readings.js';
export { applyHeaderMutations } from './message/rewrite.js';
export { MessageStore, type MessageStoreOptions } from './message/store.js';
export * from './plugin.js';
export type { FindingSet } from './recorder.js';
export * from './verdict.js';
export { coreVersion } from './version.js';
export { decodeText } from './message/text.js';
export * from './util/index.js';
