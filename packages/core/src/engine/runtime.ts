import type { EnvelopeAddress, TransactionContext, TransactionState } from '../context.js';
import type { Limits } from '../message/limits.js';
import type { Logger } from '../plugin.js';
import type { FindingSet } from '../recorder.js';
import type { Disposition } from '../verdict.js';
import type { EngineOptions, LimitPolicy, Policy } from './options.js';
import type { RegisteredStage } from './registration.js';

/** What connections and transactions need from their engine. Internal: hosts never see it. */
export interface EngineRuntime {
  readonly stages: readonly RegisteredStage[];
  readonly options: Readonly<EngineOptions>;
  readonly limits: Limits;
  readonly limitPolicy: LimitPolicy;
  readonly severity: readonly Disposition[];
  readonly log: Logger;
  /** Told of each finding recorded after its stage was sealed. */
  readonly onLate: (stage: string, finding: string) => void;
  /** The thresholds and monitor mode for one transaction (the `policy` option applied). */
  policyFor(tx: TransactionContext): Policy;
}

/** The transaction facts that go into the context stages see. */
export interface TransactionFacts {
  readonly id: string;
  readonly mailFrom: EnvelopeAddress | undefined;
  readonly recipients: readonly EnvelopeAddress[];
  readonly state: TransactionState;
  readonly skipped: ReadonlyMap<string, string>;
}

/** What a transaction needs from its connection. Internal: hosts never see it. */
export interface ConnectionScope {
  readonly runtime: EngineRuntime;
  /** Findings of connect and HELO: they count in every transaction of the connection. */
  readonly findings: FindingSet;
  readonly skipped: ReadonlyMap<string, string>;
  readonly state: TransactionState;
  /** The context stages see, for the connection or one of its transactions. */
  context(tx?: TransactionFacts): TransactionContext;
}
