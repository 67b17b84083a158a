export * from './context.js';
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
export { HeaderBlock, type HeaderField } from './message/header-block.js';
export { defaultLimits, type LimitName, type Limits } from './message/pipeline.js';
export { applyHeaderMutations } from './message/rewrite.js';
export { MessageStore, type MessageStoreOptions } from './message/store.js';
export * from './plugin.js';
export type { FindingSet } from './recorder.js';
export * from './verdict.js';
export { coreVersion } from './version.js';
