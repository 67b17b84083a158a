import type { Generated } from 'kysely';

/** A user of the interface. `operator` is 1 for an operator, who sees every domain. */
export interface UsersTable {
  name: string;
  password_hash: string;
  operator: number;
  created: string;
}

/** Which domains a domain administrator may see and change. */
export interface UserDomainsTable {
  username: string;
  domain: string;
}

/** A domain and its settings (JSON of `DomainSettings`). */
export interface DomainsTable {
  name: string;
  settings: string;
  updated: string;
}

/** One changed setting: who, when, the old and the new value (JSON). */
export interface AuditTable {
  id: Generated<number>;
  time: string;
  username: string;
  domain: string;
  field: string;
  old_value: string | null;
  new_value: string | null;
}

/** One verdict: metadata only. */
export interface TransactionsTable {
  id: Generated<number>;
  time: string;
  domain: string;
  client: string;
  helo: string | null;
  sender: string;
  recipients: string;
  message_id: string | null;
  size: number;
  disposition: string;
  score: number;
  symbols: string;
  direction: string;
  destination_reply: string | null;
}

/** A login session: the SHA-256 of the cookie's token, never the token. */
export interface SessionsTable {
  id: string;
  username: string;
  csrf: string;
  expires: string;
}

/** A rollout step a domain administrator marked done. */
export interface RolloutTable {
  domain: string;
  step: string;
  done_by: string;
  done_at: string;
}

/** The tables of the store. */
export interface Database {
  users: UsersTable;
  user_domains: UserDomainsTable;
  domains: DomainsTable;
  audit: AuditTable;
  transactions: TransactionsTable;
  sessions: SessionsTable;
  rollout: RolloutTable;
}
