import { Readable } from 'node:stream';
import type { ConnectionInfo, TransactionContext } from '../context.js';
import { invalidOption, MefError } from '../errors.js';
import type { Limits } from '../message/limits.js';
import type { HealthResult, Logger, Phase, Plugin } from '../plugin.js';
import { raceTimeout, TIMED_OUT } from '../timeout.js';
import { defaultSeverity, type Thresholds, type Verdict } from '../verdict.js';
import { coreVersion } from '../version.js';
import { Connection } from './connection.js';
import {
  type EngineOptions,
  type LimitPolicy,
  type Policy,
  resolveOptions,
  type ScanEnvelope,
} from './options.js';
import { type RegisteredStage, registerStage } from './registration.js';
import { errorInfo } from './run-stage.js';
import type { EngineRuntime } from './runtime.js';

/**
 * The filter engine. Register plugins with `use`, then `start`; the engine freezes at its
 * first use. One engine serves any number of concurrent connections.
 */
export class Engine {
  readonly options: Readonly<EngineOptions>;
  readonly limits: Limits;
  readonly limitPolicy: LimitPolicy;
  readonly thresholds: Thresholds;
  readonly log: Logger;
  readonly #stages: RegisteredStage[] = [];
  readonly #runtime: EngineRuntime;
  #frozen = false;
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  #startPromise: Promise<void> | undefined;
  #lateFindings = 0;

  constructor(options: EngineOptions = {}) {
    const resolved = resolveOptions(options);
    this.options = options;
    this.thresholds = resolved.thresholds;
    this.limits = resolved.limits;
    this.limitPolicy = resolved.limitPolicy;
    this.log = resolved.log;
    this.#runtime = {
      stages: this.#stages,
      options,
      limits: this.limits,
      limitPolicy: this.limitPolicy,
      severity: options.severity ?? defaultSeverity,
      log: this.log,
      onLate: (stage, finding) => {
        this.#lateFindings++;
        this.log.warn({ stage, finding }, 'finding recorded after the stage was sealed; it was dropped');
      },
      policyFor: (tx) => this.#policyFor(tx),
    };
  }

  /**
   * Findings recorded after their stage was sealed (its timeout passed): dropped from the
   * verdict, logged at warn with the stage and the finding, and counted here.
   */
  get lateFindings(): number {
    return this.#lateFindings;
  }

  /** Registers a plugin. Checks its name, core range and dependencies now. */
  use(plugin: Plugin): this {
    if (this.#frozen) {
      throw new MefError(
        'MEF_CORE_FROZEN',
        `cannot register ${String((plugin as Plugin | undefined)?.name)}: the engine is frozen after first use`,
      );
    }
    this.#stages.push(registerStage(this.#stages, plugin, this.options));
    this.#stages.sort((a, b) => a.priority - b.priority || a.order - b.order);
    return this;
  }

  /** Names of the registered plugins in run order. */
  get plugins(): string[] {
    return this.#stages.map((s) => s.name);
  }

  /**
   * Names of the registered plugins with a hook at `phase`, in run order (empty when none).
   * A host may use it to do less at a phase no stage acts at: not wait for the engine's answer
   * there (a milter's no-reply flags), or not hook that phase of its MTA at all. The engine
   * still needs every envelope fact (HELO name, MAIL FROM, recipients) before the message,
   * since stages read them in their context; a phase with no stage always answers accept.
   */
  stagesAt(phase: Phase): string[] {
    return this.#stages.filter((s) => typeof s.plugin[phase] === 'function').map((s) => s.name);
  }

  /** Runs every plugin's setup; the engine freezes. Idempotent. */
  start(): Promise<void> {
    this.#frozen = true;
    if (this.#state === 'stopped')
      return Promise.reject(new MefError('MEF_CORE_NOT_STARTED', 'engine was stopped'));
    if (!this.#startPromise) {
      this.#state = 'starting';
      this.#startPromise = this.#setup();
    }
    return this.#startPromise;
  }

  async #setup(): Promise<void> {
    const done: RegisteredStage[] = [];
    for (const s of this.#stages) {
      if (!s.plugin.setup) continue;
      try {
        await s.plugin.setup({ log: this.log, coreVersion });
        done.push(s);
      } catch (err) {
        for (const d of done.reverse()) await Promise.resolve(d.plugin.teardown?.()).catch(() => {});
        this.#state = 'new';
        this.#startPromise = undefined;
        throw new MefError('MEF_CORE_SETUP_FAILED', `setup of ${s.name} failed: ${errorInfo(err).message}`, {
          cause: err,
        });
      }
    }
    this.#state = 'started';
  }

  /** Runs every plugin's teardown (in reverse order). */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#startPromise) await this.#startPromise.catch(() => {});
    this.#state = 'stopped';
    for (const s of [...this.#stages].reverse()) {
      try {
        await s.plugin.teardown?.();
      } catch (err) {
        this.log.warn({ stage: s.name, err }, 'teardown failed');
      }
    }
  }

  /** Asks every plugin with a health check, each bounded by its timeout. */
  async health(): Promise<Record<string, HealthResult>> {
    const results: Record<string, HealthResult> = {};
    await Promise.all(
      this.#stages.map(async (s) => {
        if (!s.plugin.health) return;
        try {
          const answer = await raceTimeout(
            Promise.resolve().then(() => s.plugin.health?.()),
            s.stageTimeout,
          );
          results[s.name] =
            answer === TIMED_OUT
              ? { ok: false, detail: 'health check timed out' }
              : (answer ?? { ok: false });
        } catch (err) {
          results[s.name] = { ok: false, detail: errorInfo(err).message };
        }
      }),
    );
    return results;
  }

  /** Opens a connection. The engine must be started. */
  connection(info: ConnectionInfo): Connection {
    this.#frozen = true;
    if (this.#state !== 'started') {
      throw new MefError('MEF_CORE_NOT_STARTED', 'call and await engine.start() before opening connections');
    }
    if (!info || typeof info.clientAddress !== 'string') {
      throw invalidOption('clientAddress', info?.clientAddress, 'an IP address string');
    }
    return new Connection(this.#runtime, info);
  }

  /**
   * Runs a whole transaction over one message: connect, HELO, MAIL FROM, each RCPT, the
   * message and close. Returns the first verdict that is not accept at an envelope phase
   * (the message is then not read), else the message verdict.
   */
  async scan(
    source: Buffer | string | Readable | AsyncIterable<Buffer>,
    envelope: ScanEnvelope = {},
  ): Promise<Verdict> {
    await this.start();
    const info: { -readonly [K in keyof ConnectionInfo]: ConnectionInfo[K] } = {
      clientAddress: envelope.clientAddress ?? '127.0.0.1',
    };
    if (envelope.clientPort !== undefined) info.clientPort = envelope.clientPort;
    if (envelope.reverseName !== undefined) info.reverseName = envelope.reverseName;
    if (envelope.user !== undefined) info.user = envelope.user;
    if (envelope.direction !== undefined) info.direction = envelope.direction;
    const conn = this.connection(info);
    const drop = (v: Verdict): Verdict => {
      if (source instanceof Readable) source.destroy();
      return v;
    };
    try {
      let v = await conn.connect();
      if (v.disposition !== 'accept') return drop(v);
      if (envelope.helo !== undefined) {
        v = await conn.helo(envelope.helo);
        if (v.disposition !== 'accept') return drop(v);
      }
      const tx = conn.transaction();
      try {
        v = await tx.mailFrom(envelope.mailFrom ?? '', envelope.mailFromParams ?? {});
        if (v.disposition !== 'accept') return drop(v);
        let last: Verdict | undefined;
        for (const r of envelope.recipients ?? []) {
          const rv = await tx.rcptTo(r);
          if (rv.disposition !== 'accept') last = rv;
        }
        if ((envelope.recipients?.length ?? 0) > 0 && tx.recipients.length === 0 && last) {
          return drop(last);
        }
        return await tx.data(source);
      } finally {
        await tx.dispose();
      }
    } finally {
      await conn.close();
    }
  }

  #policyFor(tx: TransactionContext): Policy {
    const over = this.options.policy?.(tx) ?? {};
    return {
      thresholds: over.thresholds ?? this.thresholds,
      monitor: over.monitor ?? this.options.monitor ?? false,
    };
  }
}

/** Creates an engine. */
export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options);
}
