export { AuthError, type AuthErrorCode, authErrorCodes } from './errors.js';
export { type AuthOptions, auth, type DmarcAction } from './plugin.js';
export {
  type AuthResolver,
  type AuthResolverOptions,
  createResolver,
  type DnsResolveFunction,
} from './resolver.js';
export {
  type AuthFinding,
  type AuthSymbol,
  arcSymbol,
  authSymbols,
  type DmarcLike,
  dkimFindings,
  dmarcSymbol,
  type ResultStatus,
  spfSymbol,
} from './symbols.js';
