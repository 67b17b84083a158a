export {
  type CreateRelayOptions,
  createRelay,
  parseRelayConfig,
  type Relay,
  type RelayConfig,
  type RelayConfigInput,
  type RelayPorts,
  relayConfigSchema,
} from './create-relay.js';
export {
  type DomainSettings,
  type DomainSettingsSource,
  destinationSchema,
  domainNameSchema,
  domainSettingsSchema,
  domainsSchema,
  senderEntrySchema,
  type TransactionRecord,
  transactionRecordSchema,
} from './domain-settings.js';
export {
  type BuildPluginsOptions,
  type BuiltPlugins,
  buildPlugins,
  type DnsListsAt,
  type GroupedPlugin,
  type Preset,
  parseHostPort,
  parseListArg,
  parseRspamdUrl,
  presetFor,
} from './filters.js';
export { type FilterSettings, filtersSchema, filtersShape, rblListSchema } from './filters-schema.js';
export {
  clusterMetricsServer,
  RelayMetrics,
  type TransactionLog,
  type TransactionTimes,
  type WorkerReport,
} from './operations.js';
export { type RelayPluginOptions, type RelayTxState, relayPlugin, type ScannerGroup } from './relay-stage.js';
export { serveRelayThread } from './scan-threads.js';
export {
  type RelaySection,
  type RelaySectionInput,
  relaySchema,
  relayThreadCount,
  relayWorkerCount,
  staticDomains,
} from './schema.js';
export type { RelayStats } from './session.js';
export {
  type ClientTls,
  dotStuff,
  type ReplyExpectation,
  SmtpClient,
  SmtpClientError,
  type SmtpClientOptions,
  type SmtpReply,
} from './smtp-client.js';
export { hashPassword, UsersFile } from './users.js';
