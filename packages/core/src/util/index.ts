export { addressDomain, normalizeDomain } from './address.js';
export {
  checkDnsServer,
  checkDnsServers,
  clientAddress,
  expandIpv6,
  inNetworks,
  networkList,
  normalizeIp,
} from './net.js';
export {
  checkBoolean,
  checkEnum,
  checkErrorPolicy,
  checkNumber,
  checkPluginName,
  checkString,
  checkStrings,
  type NumberRule,
} from './options.js';
export { type CappedSource, CappedStream, capSource } from './stream.js';
