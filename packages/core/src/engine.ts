import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import semver from 'semver';
import type { ConnectionInfo, Direction, EnvelopeAddress, TransactionContext } from './context.js';
import { invalidOption, MefError } from './errors.js';
import type { TransactionState } from './index.js';
import { defaultLimits, type LimitName, type Limits, MessagePass, StageSlot } from './message/pipeline.js';
import { applyHeaderMutations } from './message/rewrite.js';
import { MessageStore, type MessageStoreOptions } from './message/store.js';
import type { HealthResult, Logger, Phase, Plugin, StageContext } from './plugin.js';
import { emptyFindings, type FindingSet, Recorder } from './recorder.js';
import {
  type DecideInput,
  type Disposition,
  decide,
  defaultSeverity,
  defaultThresholds,
  type ErrorPolicy,
  type Reply,
  type Scope,
  type StageError,
  type Thresholds,
  type Verdict,
} from './verdict.js';
import { coreVersion } from './version.js';

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
  /** Default failure policy for stages that name none. Default `tempfail`. */
  onError?: ErrorPolicy;
  /** Default per-stage timeout in ms. Default 30,000. */
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

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const HOOKS = [
  'connect',
  'helo',
  'mailFrom',
  'rcptTo',
  'message',
  'scored',
  'close',
  'setup',
  'teardown',
  'health',
] as const;

function normaliseIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

let counter = 0;
function makeId(): string {
  counter = (counter + 1) % 0xffffff;
  return `${Date.now().toString(36).toUpperCase()}${randomBytes(3).toString('hex').toUpperCase()}${counter.toString(36).toUpperCase()}`;
}

interface Stage {
  plugin: Plugin;
  name: string;
  timeout: number;
  onError: ErrorPolicy;
  priority: number;
  order: number;
}

function checkPlugin(p: unknown): asserts p is Plugin {
  if (!p || typeof p !== 'object') {
    throw new MefError('MEF_CORE_PLUGIN_INVALID', `use() expects a plugin object, got ${String(p)}`);
  }
  const plugin = p as Record<string, unknown>;
  if (typeof plugin.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(plugin.name)) {
    throw new MefError(
      'MEF_CORE_PLUGIN_INVALID',
      `a plugin needs a name, got ${JSON.stringify(plugin.name)}`,
    );
  }
  for (const h of HOOKS) {
    if (plugin[h] !== undefined && typeof plugin[h] !== 'function') {
      throw new MefError('MEF_CORE_PLUGIN_INVALID', `plugin ${plugin.name}: ${h} must be a function`);
    }
  }
  for (const key of ['timeout', 'priority'] as const) {
    const v = plugin[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || (key === 'timeout' && v <= 0))) {
      throw new MefError(
        'MEF_CORE_PLUGIN_INVALID',
        `plugin ${plugin.name}: ${key} must be a number, got ${String(v)}`,
      );
    }
  }
  if (plugin.onError !== undefined && !['tempfail', 'accept', 'reject'].includes(plugin.onError as string)) {
    throw new MefError(
      'MEF_CORE_PLUGIN_INVALID',
      `plugin ${plugin.name}: onError must be tempfail, accept or reject, got ${JSON.stringify(plugin.onError)}`,
    );
  }
}

function errorInfo(err: unknown): { code: string; message: string; kind: StageError['kind'] } {
  if (err instanceof MefError) {
    const kind = err.code === 'MEF_CORE_TIMEOUT' ? 'timeout' : 'exception';
    return { code: err.code, message: err.message, kind };
  }
  if (err instanceof Error) return { code: 'MEF_CORE_STAGE_FAILED', message: err.message, kind: 'exception' };
  return { code: 'MEF_CORE_STAGE_FAILED', message: String(err), kind: 'exception' };
}

function limitReply(name: LimitName, d: Disposition): Reply | undefined {
  if (d === 'reject') {
    if (name === 'size') return { code: 552, enhanced: '5.3.4', lines: ['Message size exceeds fixed limit'] };
    if (name === 'header') return { code: 552, enhanced: '5.3.4', lines: ['Message header block too large'] };
    return { code: 554, enhanced: '5.6.0', lines: ['Message structure too complex to scan'] };
  }
  if (d === 'tempfail') return { code: 452, enhanced: '4.3.1', lines: ['Message could not be scanned now'] };
  return undefined;
}

/**
 * The filter engine. Register plugins with `use`, then `start`; the engine freezes at its
 * first use. One engine serves any number of concurrent connections.
 */
export class Engine {
  private readonly stages: Stage[] = [];
  private frozen = false;
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  private startPromise: Promise<void> | undefined;
  readonly options: Readonly<EngineOptions>;
  readonly limits: Limits;
  readonly limitPolicy: LimitPolicy;
  readonly thresholds: Thresholds;
  readonly log: Logger;
  #lateFindings = 0;

  /**
   * Findings recorded after their stage was sealed (its timeout passed): dropped from the
   * verdict, logged at warn with the stage and the finding, and counted here.
   */
  get lateFindings(): number {
    return this.#lateFindings;
  }

  /** @internal Told by each recorder of a finding that came after its seal. */
  readonly lateFinding = (stage: string, finding: string): void => {
    this.#lateFindings++;
    this.log.warn({ stage, finding }, 'finding recorded after the stage was sealed; it was dropped');
  };

  constructor(options: EngineOptions = {}) {
    if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'an object');
    const t = { ...defaultThresholds, ...(options.thresholds ?? {}) };
    for (const k of ['reject', 'addHeader', 'greylist'] as const) {
      const v = t[k];
      if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw invalidOption(`thresholds.${k}`, v, 'a number or null');
      }
    }
    if (options.onError !== undefined && !['tempfail', 'accept', 'reject'].includes(options.onError)) {
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
    const lp = { ...defaultLimitPolicy, ...(options.limitPolicy ?? {}) };
    for (const [k, v] of Object.entries(lp)) {
      if (!['accept', 'tempfail', 'reject', 'discard', 'quarantine'].includes(v)) {
        throw invalidOption(`limitPolicy.${k}`, v, 'a disposition');
      }
    }
    if (options.severity !== undefined) {
      const s = options.severity;
      if (!Array.isArray(s) || [...defaultSeverity].sort().join() !== [...s].sort().join()) {
        throw invalidOption('severity', s, 'every disposition exactly once');
      }
    }
    this.options = options;
    this.thresholds = Object.freeze(t);
    this.limits = Object.freeze(limits);
    this.limitPolicy = Object.freeze(lp);
    this.log = options.logger ?? silentLogger;
  }

  /** The core's version. */
  static readonly version = coreVersion;

  /** Registers a plugin. Checks its name, core range and dependencies now. */
  use(plugin: Plugin): this {
    if (this.frozen) {
      throw new MefError(
        'MEF_CORE_FROZEN',
        `cannot register ${String((plugin as Plugin | undefined)?.name)}: the engine is frozen after first use`,
      );
    }
    checkPlugin(plugin);
    if (this.stages.some((s) => s.name === plugin.name)) {
      throw new MefError('MEF_CORE_PLUGIN_DUPLICATE', `a plugin named ${plugin.name} is already registered`);
    }
    if (plugin.core !== undefined) {
      if (!semver.validRange(plugin.core)) {
        throw new MefError(
          'MEF_CORE_PLUGIN_VERSION',
          `plugin ${plugin.name}: invalid core range ${plugin.core}`,
        );
      }
      if (!semver.satisfies(coreVersion, plugin.core, { includePrerelease: true })) {
        throw new MefError(
          'MEF_CORE_PLUGIN_VERSION',
          `plugin ${plugin.name} wants core ${plugin.core}, this is ${coreVersion}`,
        );
      }
    }
    for (const dep of plugin.dependencies ?? []) {
      if (!this.stages.some((s) => s.name === dep)) {
        throw new MefError(
          'MEF_CORE_PLUGIN_DEPENDENCY',
          `plugin ${plugin.name} depends on ${dep}, which is not registered before it`,
        );
      }
    }
    this.stages.push({
      plugin,
      name: plugin.name,
      timeout: plugin.timeout ?? this.options.stageTimeout ?? 30_000,
      onError: plugin.onError ?? this.options.onError ?? 'tempfail',
      priority: plugin.priority ?? 100,
      order: this.stages.length,
    });
    this.stages.sort((a, b) => a.priority - b.priority || a.order - b.order);
    return this;
  }

  /** Names of the registered plugins in run order. */
  get plugins(): string[] {
    return this.stages.map((s) => s.name);
  }

  /** Runs every plugin's setup; the engine freezes. Idempotent. */
  start(): Promise<void> {
    this.frozen = true;
    if (this.state === 'stopped')
      return Promise.reject(new MefError('MEF_CORE_NOT_STARTED', 'engine was stopped'));
    if (!this.startPromise) {
      this.state = 'starting';
      this.startPromise = (async () => {
        const done: Stage[] = [];
        for (const s of this.stages) {
          if (!s.plugin.setup) continue;
          try {
            await s.plugin.setup({ log: this.log, coreVersion });
            done.push(s);
          } catch (err) {
            for (const d of done.reverse()) await Promise.resolve(d.plugin.teardown?.()).catch(() => {});
            this.state = 'new';
            this.startPromise = undefined;
            throw new MefError(
              'MEF_CORE_SETUP_FAILED',
              `setup of ${s.name} failed: ${errorInfo(err).message}`,
              {
                cause: err,
              },
            );
          }
        }
        this.state = 'started';
      })();
    }
    return this.startPromise;
  }

  /** Runs every plugin's teardown (in reverse order). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.startPromise) await this.startPromise.catch(() => {});
    this.state = 'stopped';
    for (const s of [...this.stages].reverse()) {
      try {
        await s.plugin.teardown?.();
      } catch (err) {
        this.log.warn({ stage: s.name, err }, 'teardown failed');
      }
    }
  }

  /** Asks every plugin with a health check, each bounded by its timeout. */
  async health(): Promise<Record<string, HealthResult>> {
    const out: Record<string, HealthResult> = {};
    await Promise.all(
      this.stages
        .filter((s) => s.plugin.health)
        .map(async (s) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            const probe = s.plugin.health as () => HealthResult | Promise<HealthResult>;
            out[s.name] = await Promise.race([
              Promise.resolve(probe.call(s.plugin)),
              new Promise<HealthResult>((resolve) => {
                timer = setTimeout(() => resolve({ ok: false, detail: 'health check timed out' }), s.timeout);
              }),
            ]);
          } catch (err) {
            out[s.name] = { ok: false, detail: errorInfo(err).message };
          } finally {
            clearTimeout(timer);
          }
        }),
    );
    return out;
  }

  /** Opens a connection. The engine must be started. */
  connection(info: ConnectionInfo): Connection {
    this.frozen = true;
    if (this.state !== 'started') {
      throw new MefError('MEF_CORE_NOT_STARTED', 'call and await engine.start() before opening connections');
    }
    if (!info || typeof info.clientAddress !== 'string') {
      throw invalidOption('clientAddress', info?.clientAddress, 'an IP address string');
    }
    return new Connection(this, info, this.stages);
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
        if ((envelope.recipients?.length ?? 0) > 0 && tx.context.recipients.length === 0 && last) {
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

  /** @internal */
  policyFor(tx: TransactionContext): Policy {
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

type Hook = Exclude<Phase, 'message'>;

/** Runs one hook of one stage with its timeout; the recorder is sealed afterwards. */
async function runHook(
  stage: Stage,
  fn: () => unknown,
  recorder: Recorder,
  errors: StageError[],
  abort: AbortController,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), stage.timeout);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(fn), timeout]);
    if (result === 'timeout') {
      abort.abort(
        new MefError('MEF_CORE_TIMEOUT', `stage ${stage.name} timed out after ${stage.timeout} ms`),
      );
      errors.push({
        stage: stage.name,
        kind: 'timeout',
        code: 'MEF_CORE_TIMEOUT',
        message: `stage ${stage.name} timed out after ${stage.timeout} ms`,
        policy: stage.onError,
        disposition: stage.onError,
      });
    }
  } catch (err) {
    const info = errorInfo(err);
    errors.push({ stage: stage.name, ...info, policy: stage.onError, disposition: stage.onError });
  } finally {
    clearTimeout(timer);
    recorder.seal();
  }
}

/** One SMTP connection. */
export class Connection {
  readonly id: string;
  readonly info: ConnectionInfo;
  heloName: string | undefined;
  /** Findings of connect and HELO: they count in every transaction of the connection. */
  readonly findings: FindingSet = emptyFindings();
  readonly skipped = new Map<string, string>();
  private closed = false;
  private txCount = 0;
  private readonly clientAddress: string;

  /** @internal Hosts open connections with `engine.connection()`. */
  constructor(
    readonly engine: Engine,
    info: ConnectionInfo,
    private readonly stages: readonly Stage[],
  ) {
    this.id = info.id ?? makeId();
    this.info = info;
    this.clientAddress = normaliseIp(info.clientAddress);
  }

  /** @internal */
  context(tx?: Transaction): TransactionContext {
    return {
      id: tx?.id ?? this.id,
      connectionId: this.id,
      clientAddress: this.clientAddress,
      clientPort: this.info.clientPort ?? 0,
      reverseName: this.info.reverseName,
      helo: this.heloName,
      tls: this.info.tls,
      user: this.info.user,
      direction: this.info.direction ?? 'inbound',
      mailFrom: tx?.mailFromAddress,
      recipients: tx?.recipients ?? [],
      state: tx?.state ?? this.state,
      skipped: tx?.skipped ?? this.skipped,
    };
  }

  readonly state: TransactionState = {};

  /** @internal Runs an envelope hook on every stage, in order. */
  async runPhase(
    phase: Hook,
    into: FindingSet,
    skipped: Map<string, string>,
    ctxFor: () => TransactionContext,
    extra: Record<string, unknown> = {},
    scope: Scope = 'transaction',
    recipient?: string,
  ): Promise<FindingSet> {
    const phaseSet = emptyFindings();
    for (const stage of this.stages) {
      const fn = stage.plugin[phase] as ((ctx: StageContext) => unknown) | undefined;
      if (!fn || skipped.has(stage.name)) continue;
      const recorder = new Recorder({
        stage: stage.name,
        into: phaseSet,
        policy: stage.onError,
        scope,
        skipInto: skipped,
        ...(recipient !== undefined ? { recipient } : {}),
        onLate: this.engine.lateFinding,
      });
      const abort = new AbortController();
      const tx = ctxFor();
      const ctx = {
        tx,
        state: tx.state,
        findings: recorder,
        signal: abort.signal,
        log: this.engine.log,
        ...extra,
      };
      await runHook(
        stage,
        () => fn.call(stage.plugin, ctx as StageContext),
        recorder,
        phaseSet.errors,
        abort,
      );
      // A final answer at this phase stops the remaining stages of the phase.
      if (phaseSet.forced.some((f) => f.disposition === 'reject' || f.disposition === 'tempfail')) break;
    }
    into.symbols.push(...phaseSet.symbols);
    into.forced.push(...phaseSet.forced);
    into.errors.push(...phaseSet.errors);
    into.mutations.push(...phaseSet.mutations);
    return phaseSet;
  }

  /** @internal Verdict of an envelope phase: forced dispositions and errors only, no score action. */
  phaseVerdict(set: FindingSet, tx: TransactionContext): Verdict {
    const policy = this.engine.policyFor(tx);
    const input: DecideInput = {
      symbols: set.symbols,
      forced: set.forced,
      errors: set.errors,
      mutations: [],
      thresholds: { reject: null, addHeader: null, greylist: null },
      severity: this.engine.options.severity ?? defaultSeverity,
      monitor: policy.monitor,
    };
    const v = decide(input);
    return { ...v, score: { ...v.score, thresholds: policy.thresholds } };
  }

  /** Runs the connect phase. */
  async connect(): Promise<Verdict> {
    const set = await this.runPhase(
      'connect',
      this.findings,
      this.skipped,
      () => this.context(),
      {},
      'connection',
    );
    return this.phaseVerdict(set, this.context());
  }

  /** Runs the HELO phase. */
  async helo(name: string): Promise<Verdict> {
    if (typeof name !== 'string') throw invalidOption('helo', name, 'a string');
    this.heloName = name;
    const set = await this.runPhase(
      'helo',
      this.findings,
      this.skipped,
      () => this.context(),
      {},
      'connection',
    );
    return this.phaseVerdict(set, this.context());
  }

  /** Starts a transaction (after MAIL FROM the host calls `mailFrom` on it). */
  transaction(): Transaction {
    if (this.closed) throw new MefError('MEF_CORE_PHASE_ORDER', 'connection is closed');
    this.txCount++;
    return new Transaction(this, this.stages, this.txCount === 1 ? this.id : `${this.id}.${this.txCount}`);
  }

  /** Runs the close hooks. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runPhase('close', emptyFindings(), this.skipped, () => this.context());
  }
}

/** One transaction: MAIL FROM, RCPT TO, the message, and the verdict. */
export class Transaction {
  readonly state: TransactionState = {};
  readonly skipped: Map<string, string>;
  readonly findings: FindingSet = emptyFindings();
  mailFromAddress: EnvelopeAddress | undefined;
  readonly recipients: EnvelopeAddress[] = [];
  private pass: MessagePass | undefined;
  private store: MessageStore | undefined;
  private verdictValue: Verdict | undefined;
  private finishing: Promise<Verdict> | undefined;
  private messageStages: {
    stage: Stage;
    slot: StageSlot;
    recorder: Recorder;
    done: Promise<void>;
    abort: AbortController;
  }[] = [];
  private limitHit = new Set<LimitName>();
  private sourceError: Error | undefined;
  private passEnded: (() => void) | undefined;

  /** @internal Hosts start transactions with `connection.transaction()`. */
  constructor(
    private readonly conn: Connection,
    private readonly stages: readonly Stage[],
    readonly id: string,
  ) {
    Object.assign(this.state, conn.state);
    this.skipped = new Map(conn.skipped);
  }

  /** The context stages see. */
  get context(): TransactionContext {
    return this.conn.context(this);
  }

  /** The verdict, once the message has been decided. */
  get verdict(): Verdict | undefined {
    return this.verdictValue;
  }

  /** MAIL FROM. `address` '' is the null sender. */
  async mailFrom(address: string, params: Record<string, string | true> = {}): Promise<Verdict> {
    if (typeof address !== 'string') throw invalidOption('mailFrom', address, 'a string');
    if (this.mailFromAddress) throw new MefError('MEF_CORE_PHASE_ORDER', 'MAIL FROM given twice');
    this.mailFromAddress = { address, params: upperKeys(params) };
    const set = await this.conn.runPhase('mailFrom', this.findings, this.skipped, () => this.context);
    return this.conn.phaseVerdict(set, this.context);
  }

  /** RCPT TO. A recipient whose verdict is not accept is not added. */
  async rcptTo(address: string, params: Record<string, string | true> = {}): Promise<Verdict> {
    if (typeof address !== 'string') throw invalidOption('rcptTo', address, 'a string');
    if (!this.mailFromAddress) throw new MefError('MEF_CORE_PHASE_ORDER', 'RCPT TO before MAIL FROM');
    const recipient: EnvelopeAddress = { address, params: upperKeys(params) };
    const set = await this.conn.runPhase(
      'rcptTo',
      emptyFindings(),
      this.skipped,
      () => this.context,
      { recipient },
      'recipient',
      address,
    );
    const v = this.conn.phaseVerdict(set, this.context);
    if (v.disposition === 'accept') {
      this.recipients.push(recipient);
      // Symbols and errors of accepted recipients count toward the message.
      this.findings.symbols.push(...set.symbols);
      this.findings.errors.push(...set.errors.filter((e) => e.disposition === 'accept'));
      this.findings.mutations.push(...set.mutations);
    }
    return { ...v, scope: v.disposition === 'accept' ? v.scope : 'recipient', recipient: address };
  }

  /**
   * Starts the message phase: every message hook asks for its views, then bytes may flow.
   * `keep: true` keeps the message (memory, then a temporary file) for `output()`.
   */
  begin(options: { keep?: boolean } = {}): void {
    if (this.pass) return;
    if (!this.mailFromAddress) throw new MefError('MEF_CORE_PHASE_ORDER', 'message before MAIL FROM');
    if (options.keep) this.store = new MessageStore(this.conn.engine.options.store ?? {});
    const engine = this.conn.engine;
    const pass = new MessagePass({
      limits: engine.limits,
      store: this.store,
      onLimit: (name, detail) => this.onLimit(name, detail),
      onHeaderless: () => {
        this.findings.symbols.push({
          name: 'MEF_MISSING_HEADERS',
          score: 0,
          stage: 'engine',
          group: 'structure',
          options: ['the message starts with no header field; it was read as a body'],
        });
      },
    });
    this.pass = pass;
    const passEnded = new Promise<void>((resolve) => {
      this.passEnded = resolve;
    });
    for (const stage of this.stages) {
      const fn = stage.plugin.message;
      if (!fn || this.skipped.has(stage.name)) continue;
      const recorder = new Recorder({
        stage: stage.name,
        into: this.findings,
        policy: stage.onError,
        scope: 'transaction',
        skipInto: this.skipped,
        onLate: engine.lateFinding,
      });
      const abort = new AbortController();
      const slot = new StageSlot(stage.name, stage.timeout, (_s, kind, err) => {
        const info = errorInfo(err);
        this.findings.errors.push({
          stage: stage.name,
          kind: kind === 'timeout' ? 'timeout' : info.kind,
          code: kind === 'timeout' ? 'MEF_CORE_TIMEOUT' : info.code,
          message: info.message,
          policy: stage.onError,
          disposition: stage.onError,
        });
        recorder.seal();
        abort.abort(err);
      });
      const tx = this.context;
      const ctx = {
        tx,
        state: tx.state,
        findings: recorder,
        signal: abort.signal,
        log: engine.log,
        message: pass.view(slot),
      };
      let result: unknown;
      try {
        result = fn.call(stage.plugin, ctx);
      } catch (err) {
        result = Promise.reject(err);
      }
      const hook = Promise.resolve(result).catch((err: unknown) => slot.fail('exception', err));
      // The stage is done when its hook has settled, the pass has ended, and every part
      // handler it registered (at any time before the end) has settled.
      const done = (async () => {
        await hook;
        await passEnded;
        await slot.settled();
      })();
      this.messageStages.push({ stage, slot, recorder, done, abort });
    }
    pass.start();
  }

  private onLimit(name: LimitName, detail: string): void {
    if (this.limitHit.has(name)) return;
    this.limitHit.add(name);
    const d = this.conn.engine.limitPolicy[name];
    this.findings.symbols.push({
      name: `MEF_LIMIT_${name.toUpperCase()}`,
      score: 0,
      stage: 'engine',
      group: 'limits',
      options: [detail],
    });
    if (d !== 'accept') {
      const reply = limitReply(name, d);
      this.findings.forced.push({
        stage: 'engine',
        disposition: d,
        scope: 'transaction',
        reason: detail,
        ...(reply ? { reply } : {}),
      });
    }
  }

  /** Push-feeds message bytes; resolves when the pass can take more (backpressure). */
  async write(chunk: Buffer | string): Promise<void> {
    if (!this.pass) this.begin();
    if (this.finishing) throw new MefError('MEF_CORE_PHASE_ORDER', 'write after end of message');
    await this.pass!.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  /** Ends the message and returns the verdict. */
  end(): Promise<Verdict> {
    if (!this.pass) this.begin();
    if (!this.finishing) this.finishing = this.finish();
    return this.finishing;
  }

  /** Marks the source as failed (connection dropped mid-DATA): the verdict is tempfail. */
  fail(err: Error): Promise<Verdict> {
    if (!this.pass) this.begin();
    this.sourceError = err;
    this.pass!.abort(err);
    if (!this.finishing) this.finishing = this.finish();
    return this.finishing;
  }

  /** Stream-feeds a whole message and returns the verdict. */
  async data(
    source: Buffer | string | Readable | AsyncIterable<Buffer | string>,
    options: { keep?: boolean } = {},
  ): Promise<Verdict> {
    this.begin(options);
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      const buf = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
      for (let i = 0; i < buf.length; i += 64 * 1024) await this.write(buf.subarray(i, i + 64 * 1024));
      return this.end();
    }
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) await this.write(chunk);
    } catch (err) {
      return this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    return this.end();
  }

  private async finish(): Promise<Verdict> {
    const pass = this.pass!;
    if (!this.sourceError) await pass.end();
    this.passEnded?.();
    // Each stage now has its own timeout to finish what it started.
    await Promise.all(
      this.messageStages.map(async ({ stage, slot, recorder, done, abort }) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          done.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), stage.timeout);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          slot.fail(
            'timeout',
            new MefError('MEF_CORE_TIMEOUT', `stage ${stage.name} did not finish within ${stage.timeout} ms`),
          );
        }
        recorder.seal();
        slot.detach();
        abort.abort();
      }),
    );
    if (this.sourceError) {
      this.findings.errors.push({
        stage: 'engine',
        kind: 'unavailable',
        code: 'MEF_CORE_SOURCE_ABORTED',
        message: `message source failed: ${this.sourceError.message}`,
        policy: 'tempfail',
        disposition: 'tempfail',
      });
    }
    const ctx = this.context;
    const policy = this.conn.engine.policyFor(ctx);
    const all = {
      symbols: [...this.conn.findings.symbols, ...this.findings.symbols],
      forced: [...this.conn.findings.forced, ...this.findings.forced],
      errors: [...this.conn.findings.errors, ...this.findings.errors],
      mutations: [...this.conn.findings.mutations, ...this.findings.mutations],
    };
    const input: DecideInput = {
      ...all,
      thresholds: policy.thresholds,
      severity: this.conn.engine.options.severity ?? defaultSeverity,
      monitor: policy.monitor,
      spamHeaders: this.conn.engine.options.spamHeaders !== false,
    };
    let verdict = decide(input);
    if (this.sourceError) {
      // The message never fully arrived: whatever its parts showed, nothing can be handed
      // on, and the sender retries the whole message.
      verdict = {
        ...verdict,
        disposition: 'tempfail',
        scope: 'transaction',
        disconnect: false,
        reply: { code: 451, enhanced: '4.3.0', lines: ['Message transfer failed, please try again later'] },
        mutations: [],
      };
    } else if (this.stages.some((s) => s.plugin.scored && !this.skipped.has(s.name))) {
      // Stages that act on the score (greylisting) see the verdict, then it is decided again
      // with what they recorded.
      const set = await this.conn.runPhase('scored', emptyFindings(), this.skipped, () => this.context, {
        verdict,
      });
      if (set.symbols.length || set.forced.length || set.errors.length || set.mutations.length) {
        this.findings.symbols.push(...set.symbols);
        this.findings.forced.push(...set.forced);
        this.findings.errors.push(...set.errors);
        this.findings.mutations.push(...set.mutations);
        verdict = decide({
          ...input,
          symbols: [...input.symbols, ...set.symbols],
          forced: [...input.forced, ...set.forced],
          errors: [...input.errors, ...set.errors],
          mutations: [...input.mutations, ...set.mutations],
        });
      }
    }
    this.verdictValue = verdict;
    return verdict;
  }

  /** Size of the message so far. */
  get size(): number {
    return this.pass?.size ?? 0;
  }

  /**
   * The message as it should be handed on: the verdict's header changes applied to the root
   * header block, every other byte as received. With no changes it is the input, byte for
   * byte. Needs `data(source, { keep: true })` (or `begin({ keep: true })`).
   */
  output(): Readable {
    const store = this.store;
    const v = this.verdictValue;
    if (!store || !v || !this.pass) {
      throw new MefError(
        'MEF_CORE_OUTPUT_UNAVAILABLE',
        'output() needs a decided message that was kept: use data(source, { keep: true })',
      );
    }
    const headerEnd = this.pass.headerEnd;
    const head = this.pass.headerBytes();
    if (!v.mutations.length || headerEnd < 0 || !head) return store.read(0);
    const { headerless, eol } = this.pass;
    let rewritten = applyHeaderMutations(head, v.mutations, eol);
    // Fields added to a message that had no header block need the empty line before its body.
    if (headerless && rewritten.length) rewritten = Buffer.concat([rewritten, Buffer.from(eol)]);
    const rest = store.read(headerEnd);
    return Readable.from(
      (async function* () {
        yield rewritten;
        for await (const c of rest) yield c as Buffer;
      })(),
      { objectMode: false },
    );
  }

  /** Removes the kept message (temporary file included). Call when the transaction ends. */
  async dispose(): Promise<void> {
    if (this.pass && !this.finishing) {
      this.sourceError = new Error('transaction disposed before the end of the message');
      this.pass.abort(this.sourceError);
      this.finishing = this.finish();
      await this.finishing.catch(() => {});
    }
    await this.store?.dispose();
  }
}

function upperKeys(params: Record<string, string | true>): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(params)) out[k.toUpperCase()] = v;
  return out;
}
