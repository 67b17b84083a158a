export { type CachedAnswer, MemoryCache, type MemoryCacheOptions, type RblCache } from './cache.js';
export {
  type DnsClientOptions,
  type DnsClientStats,
  DnsListClient,
  type LookupAnswer,
  parseServer,
} from './dns-client.js';
export { RblError, type RblErrorCode, rblErrorCodes } from './errors.js';
export { decodeEntities, findLinkHosts, type LinkTargets, linkTargets } from './links.js';
export {
  type CompiledList,
  compileList,
  type ListHealth,
  type RblCheck,
  RblChecker,
  type RblHit,
  type RblListConfig,
  type RblOutcome,
  type RblProbe,
  type RblReplyTemplate,
} from './lists.js';
export { type PendingReject, type RblListing, type RblOptions, type RblState, rbl } from './plugin.js';
export { dnswl, genericList, type PresetOptions, spamhausDbl, spamhausZen, surblMulti } from './presets.js';
export {
  addressDomain,
  domainQueryName,
  ipQueryName,
  ipv6Nibbles,
  normalizeDomain,
  normalizeIp,
} from './query.js';
export { isReservedIp, networkList, receivedHops } from './received.js';
export {
  type AnswerMeaning,
  ReturnCodeMap,
  type ReturnCodeRule,
  spamhausErrorCodes,
} from './return-codes.js';
