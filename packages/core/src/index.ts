/**
 * `@mef/core` for plugin authors: the stage contract, the context a stage sees, findings and
 * the verdict model, the message views, limits and coded errors. Hosts import the engine and
 * the verdict mappers from `@mef/core/hosts`; tests import the testing kit from
 * `@mef/core/testing`.
 */

export * from './context.js';
export { PLUGIN_NAME } from './engine/registration.js';
export * from './errors.js';
export type { AmbiguityKind } from './message/ambiguity.js';
export { HeaderBlock, type HeaderField } from './message/header-block.js';
export { defaultLimits, type LimitName, type Limits } from './message/limits.js';
export { type MimeReadingsReport, mimeReadings } from './message/readings.js';
export { decodeText } from './message/text.js';
export * from './plugin.js';
export type { RecordedFindings } from './recorder.js';
export * from './util/index.js';
export * from './verdict.js';
export { coreVersion } from './version.js';
