export { addressDomain, normalizeDomain } from './address.js';
export { checkDnsServer, clientAddress, expandIpv6, inNetworks, networkList, normalizeIp } from './net.js';
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
