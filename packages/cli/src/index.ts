export {
  type CheckDnsOptions,
  checkDns,
  compareMx,
  type DnsCheck,
  type DnsProblem,
  type DnsProblemCode,
  formatDnsCheck,
  formatTtl,
  type MxRecord,
  parseDnsServer,
} from './check-dns.js';
export {
  ConfigError,
  configJsonSchema,
  configSchema,
  defaultConfig,
  defaultModelPath,
  loadConfigFile,
  type MefConfig,
  mefHome,
  type ResolvedConfig,
  validateConfig,
} from './config.js';
export {
  type FirewallDestination,
  type FirewallRules,
  firewallRules,
  groupDestinations,
  parseDestination,
  parseRelayAddress,
} from './firewall.js';
export { type InputItem, type InputOptions, inputs, sniff } from './input.js';
export { MboxSplitter } from './mbox.js';
export { createProgram, type Io, run } from './program.js';
export { type ScanResult, toResult } from './report.js';
export { runOrdered, runScan, type ScanRunOptions } from './scan.js';
export {
  type BuiltEngine,
  buildEngine,
  type Preset,
  parseHostPort,
  parseListArg,
  parseRspamdUrl,
  presetFor,
  resolveConfig,
} from './setup.js';
export { heldOut, runTrain, type TrainRunOptions } from './train.js';
export { cliVersion } from './version.js';
export { WorkerPool, workerMain } from './workers.js';
