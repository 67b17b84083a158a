/**
 * The programmatic API of the `mef` command, for scripts: load and resolve a configuration,
 * build the engine it describes, scan or train as `mef scan` and `mef train` do, check DNS and
 * write firewall rules, or run the whole program with your own input and output. The worker
 * threads, the mbox splitter and the other helpers of the binary stay inside the package.
 */
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
export { type InputItem, type InputOptions, inputs } from './input.js';
export { createProgram, type Io, run } from './program.js';
export { type ScanResult, toResult } from './report.js';
export { runScan, type ScanRunOptions, type ScanWorkers } from './scan.js';
export { type BuiltEngine, buildEngine, resolveConfig } from './setup.js';
export { runTrain, type TrainRunOptions } from './train.js';
export { cliVersion } from './version.js';
