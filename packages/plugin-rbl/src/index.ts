/**
 * Core's address helpers, re-exported where this package's README has always listed them
 * (and where `@mef/relay` imports them from): one implementation, in `@mef/core`.
 */
export { addressDomain, networkList, normalizeDomain, normalizeIp } from '@mef/core';
export { type CachedAnswer, MemoryCache, type MemoryCacheOptions, type RblCache } from './cache.js';
export { type ListHealth, RblChecker, type RblHit, type RblOutcome } from './checker.js';
export {
  type DnsClientOptions,
  type DnsClientStats,
  DnsListClient,
  type LookupAnswer,
} from './dns-client.js';
export { RblError, type RblErrorCode, rblErrorCodes } from './errors.js';
export { decodeEntities, findLinkHosts, type LinkTargets, linkTargets } from './links.js';
export {
  type CompiledList,
  compileList,
  type RblCheck,
  type RblListConfig,
  type RblProbe,
  type RblReplyTemplate,
} from './list-config.js';
export type { RblOptions } from './options.js';
export { rbl } from './plugin.js';
export { dnswl, genericList, type PresetOptions, spamhausDbl, spamhausZen, surblMulti } from './presets.js';
export { domainQueryName, ipQueryName } from './query.js';
export { isReservedIp, receivedHops } from './received.js';
export {
  type AnswerMeaning,
  ReturnCodeMap,
  type ReturnCodeRule,
  spamhausErrorCodes,
} from './return-codes.js';
export type { PendingReject, RblListing, RblState } from './state.js';
