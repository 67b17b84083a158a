export {
  type ClamavOptions,
  type ClamavSymbol,
  clamav,
  clamavSymbols,
  parseClamdAddress,
  type ScanMode,
} from './clamav-plugin.js';
export {
  type ClamdAddress,
  ClamdClient,
  type ClamdClientOptions,
  describeAddress,
  InstreamSession,
} from './clamd/client.js';
export { type ClamdReply, isHeuristic, parseScanReply } from './clamd/reply.js';
export { AntivirusError, type AntivirusErrorCode, antivirusErrorCodes } from './errors.js';
export type { DetectionAction } from './options.js';
