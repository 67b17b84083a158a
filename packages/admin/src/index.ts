export { AdminError, type AdminErrorCode, adminErrorCodes } from './errors.js';
export { checkMx, type MxCheck } from './mx-check.js';
export { hashPassword, verifyPassword } from './password.js';
export { type LinkRelayOptions, linkRelay, type RelayLink } from './relay-link.js';
export { type AdminServer, type AdminServerOptions, createAdminServer } from './server/app.js';
export { trafficChart } from './server/chart.js';
export { firewallRules } from './server/views-rollout.js';
export {
  type AdminConfig,
  adminConfigSchema,
  type DomainSettings,
  type DomainSettingsSource,
  domainNameSchema,
  domainSettingsSchema,
  domainsSchema,
  type TransactionRecord,
  transactionRecordSchema,
} from './settings.js';
export {
  createSettingsSource,
  type SettingsSourceOptions,
  type StoreSettingsSource,
} from './settings-source.js';
export {
  type AuditEntry,
  addDomain,
  auditLog,
  diffSettings,
  getDomain,
  listDomains,
  type SettingChange,
  seedDomains,
  updateDomain,
} from './store/domains.js';
export { isPostgresUrl, type OpenStoreOptions, openStore, type Store } from './store/open.js';
export type {
  AuditTable,
  Database,
  DomainsTable,
  RolloutTable,
  SessionsTable,
  TransactionsTable,
  UserDomainsTable,
  UsersTable,
} from './store/schema.js';
export {
  type DayCounts,
  dailyCounts,
  dispositionTotals,
  pruneTransactions,
  recordTransaction,
  searchTransactions,
  type TransactionQuery,
  type TransactionRow,
} from './store/transactions.js';
export { addUser, authenticate, type NewUser, type User } from './store/users.js';
