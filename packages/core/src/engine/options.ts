import type { Direction, TransactionContext } from '../context.js';
import { invalidOption } from '../errors.js';
import { defaultLimits, type LimitName, type Limits } from '../message/limits.js';
import type { MessageStoreOptions } from '../message/store.js';
import type { Logger } from '../plugin.js';
import {
  type Disposition,
  defaultSeverity,
  defaultThresholds,
  type ErrorPolicy,
  type Thresholds,
} from '../verdict.js';

/** The disposition (and reply) each limit produces. */
export type LimitPolicy = Readonly<Record<LimitName, Disposition>>;

export const defaultLimitPolicy: LimitPolicy = Object.freeze({
  size: 'reject',
  header: 'reject',
  depth: 'reject',
  parts: 'reject',
  text: 'accept',
  parse: 'accept',
});

/** Policy that can change per transaction (per domain): thresholds and monitor mode. */
export interface Policy {
  readonly thresholds: Thresholds;
  readonly monitor: boolean;
}

/** Engine options. Every field is optional. */
export interface EngineOptions {
  /** Score thresholds. Default: reject 15, add header 6, greylist 4. */
  thresholds?: Partial<Thresholds>;
  /** Default failure policy for plugins that name none. Default `tempfail`. */
  onError?: ErrorPolicy;
  /**
   * Default for each plugin's `stageTimeout`, in milliseconds: how long one hook may run, how long
   * its message work may take after the last byte, how long it may stall the pass, and how
   * long its health probe may take. Default 30,000.
   */
  stageTimeout?: number;
  /** Message limits. */
  limits?: Partial<Limits>;
  /** What each limit turns into. */
  limitPolicy?: Partial<LimitPolicy>;
  /** Monitor mode: scan and tag, never reject. */
  monitor?: boolean;
  /** Severity order, most severe first. */
  severity?: readonly Disposition[];
  /** Per-transaction policy (per-domain overrides), asked at each decision. */
  policy?: (tx: TransactionContext) => Partial<Policy> | undefined;
  /** Add `X-Spam: Yes` when the score reaches add-header. Default true. */
  spamHeaders?: boolean;
  /** pino-compatible logger. Default: silent. */
  logger?: Logger;
  /** Where kept messages live (see `Transaction.output`). */
  store?: MessageStoreOptions;
}

/** Envelope for `engine.scan`. */
export interface ScanEnvelope {
  clientAddress?: string;
  clientPort?: number;
  reverseName?: string;
  helo?: string;
  user?: string;
  direction?: Direction;
  mailFrom?: string;
  /** ESMTP parameters of MAIL FROM, such as `{ SIZE: '12345', BODY: '8BITMIME' }`. */
  mailFromParams?: Record<string, string | true>;
  recipients?: readonly string[];
}

/** The engine's options checked, with every default filled in. */
export interface ResolvedOptions {
  readonly thresholds: Thresholds;
  readonly limits: Limits;
  readonly limitPolicy: LimitPolicy;
  readonly log: Logger;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const POLICIES: readonly string[] = ['tempfail', 'accept', 'reject'];

/** Checks the engine's options; a bad one throws a TypeError that names it and quotes the value. */
export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object');
  const thresholds = { ...defaultThresholds, ...(options.thresholds ?? {}) };
  for (const k of ['reject', 'addHeader', 'greylist'] as const) {
    const v = thresholds[k];
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw invalidOption(`thresholds.${k}`, v, 'a number or null');
    }
  }
  if (options.onError !== undefined && !POLICIES.includes(options.onError)) {
    throw invalidOption('onError', options.onError, "'tempfail', 'accept' or 'reject'");
  }
  if (
    options.stageTimeout !== undefined &&
    (typeof options.stageTimeout !== 'number' || !(options.stageTimeout > 0))
  ) {
    throw invalidOption('stageTimeout', options.stageTimeout, 'a positive number of milliseconds');
  }
  const limits = { ...defaultLimits, ...(options.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !(v > 0)) throw invalidOption(`limits.${k}`, v, 'a positive number');
  }
  const limitPolicy = { ...defaultLimitPolicy, ...(options.limitPolicy ?? {}) };
  for (const [k, v] of Object.entries(limitPolicy)) {
    if (!(defaultSeverity as readonly string[]).includes(v)) {
      throw invalidOption(`limitPolicy.${k}`, v, 'a disposition');
    }
  }
  if (options.severity !== undefined) {
    const s = options.severity;
    if (!Array.isArray(s) || [...defaultSeverity].sort().join() !== [...s].sort().join()) {
      throw invalidOption('severity', s, 'every disposition exactly once');
    }
  }
  return {
    thresholds: Object.freeze(thresholds),
    limits: Object.freeze(limits),
    limitPolicy: Object.freeze(limitPolicy),
    log: options.logger ?? silentLogger,
  };
}
