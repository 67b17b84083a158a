export {
  type ArchiveKind,
  type ArchiveLimits,
  type ArchiveMember,
  type ArchiveReport,
  archiveKind,
  DEFAULT_ARCHIVE_LIMITS,
} from './banned/archives.js';
export { inspectArchive, inspectZip } from './banned/inspect.js';
export {
  type BannedAttachmentsOptions,
  type BannedSymbol,
  bannedSymbols,
} from './banned/options.js';
export { bannedAttachments } from './banned/plugin.js';
export {
  type AllowRules,
  baseName,
  DEFAULT_BANNED_EXTENSIONS,
  DEFAULT_BANNED_MIME_TYPES,
  DEFAULT_BANNED_REAL_TYPES,
  DEFAULT_DECOY_EXTENSIONS,
  extensionsOf,
} from './banned/rules.js';
export { readTnef, type TnefAttachment } from './banned/tnef.js';
export type { ArchiveWindow } from './banned/zip.js';
export {
  type ClamavOptions,
  type ClamavSymbol,
  clamavSymbols,
  parseClamdAddress,
  type ScanMode,
} from './clamav/options.js';
export { clamav } from './clamav/plugin.js';
export { ClamdClient, type ClamdClientOptions } from './clamd/client.js';
export { type ClamdAddress, describeAddress } from './clamd/connection.js';
export { InstreamSession } from './clamd/instream-session.js';
export { type ClamdReply, isHeuristic, parseScanReply } from './clamd/reply.js';
export type { DetectionAction } from './detection.js';
export { AntivirusError, type AntivirusErrorCode, antivirusErrorCodes } from './errors.js';
