import type { Readable } from 'node:stream';
import type { EnvelopeAddress, TransactionContext, TransactionState } from '../context.js';
import { invalidOption, MefError } from '../errors.js';
import type { LimitName } from '../message/limits.js';
import { MessagePass } from '../message/pipeline.js';
import { MessageStore } from '../message/store.js';
import { emptyFindings, type FindingSet, mergeFindings, type RecordedFindings } from '../recorder.js';
import { decide, type Verdict } from '../verdict.js';
import { messageInput, phaseVerdict } from './decision.js';
import { recordLimit } from './limit-findings.js';
import { finishMessageStages, type MessageStage, startMessageStages } from './message-stages.js';
import { rewrittenMessage } from './output.js';
import {
  addTime,
  newTimes,
  type PhaseTimes,
  runPhase,
  type StageTimes,
  verdictTimings,
} from './run-stage.js';
import type { ConnectionScope } from './runtime.js';

function upperKeys(params: Record<string, string | true>): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(params)) out[k.toUpperCase()] = v;
  return out;
}

const CHUNK = 64 * 1024;

/** One transaction: MAIL FROM, RCPT TO, the message, and the verdict. */
export class Transaction {
  readonly id: string;
  /** Shared typed state of the transaction (a copy of the connection's at its start). */
  readonly state: TransactionState = {};
  readonly #conn: ConnectionScope;
  readonly #skipped: Map<string, string>;
  readonly #findings: FindingSet = emptyFindings();
  readonly #recipients: EnvelopeAddress[] = [];
  #mailFrom: EnvelopeAddress | undefined;
  #pass: MessagePass | undefined;
  #store: MessageStore | undefined;
  #verdict: Verdict | undefined;
  #finishing: Promise<Verdict> | undefined;
  #messageStages: MessageStage[] = [];
  readonly #limitsHit = new Set<LimitName>();
  #sourceError: Error | undefined;
  #passEnded: (() => void) | undefined;
  /** Each stage's time in this transaction's phases (the message verdict carries them). */
  readonly #times: PhaseTimes = {};

  /** @internal Hosts start transactions with `connection.transaction()`. */
  constructor(conn: ConnectionScope, id: string) {
    this.#conn = conn;
    this.id = id;
    Object.assign(this.state, conn.state);
    this.#skipped = new Map(conn.skipped);
  }

  /** The MAIL FROM address, once given. */
  get mailFromAddress(): EnvelopeAddress | undefined {
    return this.#mailFrom;
  }

  /** Recipients accepted so far. */
  get recipients(): readonly EnvelopeAddress[] {
    return this.#recipients;
  }

  /** Findings of this transaction (the connection's count too, see `Connection.findings`). */
  get findings(): RecordedFindings {
    return this.#findings;
  }

  /** Stages skipped for this transaction, with the reason. */
  get skipped(): ReadonlyMap<string, string> {
    return this.#skipped;
  }

  /** The context stages see. */
  get context(): TransactionContext {
    return this.#conn.context({
      id: this.id,
      mailFrom: this.#mailFrom,
      recipients: this.#recipients,
      state: this.state,
      skipped: this.#skipped,
    });
  }

  /** The verdict, once the message has been decided. */
  get verdict(): Verdict | undefined {
    return this.#verdict;
  }

  /** Size of the message so far. */
  get size(): number {
    return this.#pass?.size ?? 0;
  }

  /** MAIL FROM. `address` '' is the null sender. */
  async mailFrom(address: string, params: Record<string, string | true> = {}): Promise<Verdict> {
    if (typeof address !== 'string') throw invalidOption('mailFrom', address, 'a string');
    if (this.#mailFrom) throw new MefError('MEF_CORE_PHASE_ORDER', 'MAIL FROM given twice');
    this.#mailFrom = { address, params: upperKeys(params) };
    const times = newTimes();
    this.#times.mailFrom = times;
    const set = await runPhase({
      times,
      runtime: this.#conn.runtime,
      phase: 'mailFrom',
      into: this.#findings,
      skipped: this.#skipped,
      context: () => this.context,
      scope: 'transaction',
    });
    return phaseVerdict(this.#conn.runtime, set, this.context, verdictTimings({ mailFrom: times }));
  }

  /** RCPT TO. A recipient whose verdict is not accept is not added. */
  async rcptTo(address: string, params: Record<string, string | true> = {}): Promise<Verdict> {
    if (typeof address !== 'string') throw invalidOption('rcptTo', address, 'a string');
    if (!this.#mailFrom) throw new MefError('MEF_CORE_PHASE_ORDER', 'RCPT TO before MAIL FROM');
    const recipient: EnvelopeAddress = { address, params: upperKeys(params) };
    const times = newTimes();
    const set = await runPhase({
      times,
      runtime: this.#conn.runtime,
      phase: 'rcptTo',
      recipient,
      skipped: this.#skipped,
      context: () => this.context,
      scope: 'recipient',
    });
    this.#times.rcptTo ??= newTimes();
    const all = this.#times.rcptTo;
    for (const name of Object.keys(times)) addTime(all, name, times[name] as number);
    const v = phaseVerdict(this.#conn.runtime, set, this.context, verdictTimings({ rcptTo: times }));
    if (v.disposition === 'accept') {
      this.#recipients.push(recipient);
      // Symbols and errors of accepted recipients count toward the message.
      this.#findings.symbols.push(...set.symbols);
      this.#findings.errors.push(...set.errors.filter((e) => e.disposition === 'accept'));
      this.#findings.mutations.push(...set.mutations);
    }
    return { ...v, scope: v.disposition === 'accept' ? v.scope : 'recipient', recipient: address };
  }

  /**
   * Starts the message phase: every message hook asks for its views, then bytes may flow.
   * `keep: true` keeps the message (memory, then a temporary file) for `output()`.
   */
  begin(options: { keep?: boolean } = {}): void {
    if (this.#pass) return;
    if (!this.#mailFrom) throw new MefError('MEF_CORE_PHASE_ORDER', 'message before MAIL FROM');
    const { runtime } = this.#conn;
    if (options.keep) this.#store = new MessageStore(runtime.options.store ?? {});
    const pass = new MessagePass({
      limits: runtime.limits,
      store: this.#store,
      onLimit: (name, detail) => {
        if (this.#limitsHit.has(name)) return;
        this.#limitsHit.add(name);
        recordLimit(this.#findings, name, runtime.limitPolicy[name], detail);
      },
      onHeaderless: () => {
        this.#findings.symbols.push({
          name: 'MEF_MISSING_HEADERS',
          score: 0,
          stage: 'engine',
          group: 'structure',
          options: ['the message starts with no header field; it was read as a body'],
        });
      },
    });
    this.#pass = pass;
    const passEnded = new Promise<void>((resolve) => {
      this.#passEnded = resolve;
    });
    this.#messageStages = startMessageStages({
      runtime,
      pass,
      findings: this.#findings,
      skipped: this.#skipped,
      context: this.context,
      passEnded,
    });
    pass.start();
  }

  /** Push-feeds message bytes; resolves when the pass can take more (backpressure). */
  async write(chunk: Buffer | string): Promise<void> {
    const pass = this.#passStarted();
    if (this.#finishing) throw new MefError('MEF_CORE_PHASE_ORDER', 'write after end of message');
    await pass.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  /** Ends the message and returns the verdict. */
  end(): Promise<Verdict> {
    this.#passStarted();
    this.#finishing ??= this.#finish();
    return this.#finishing;
  }

  /** Marks the source as failed (connection dropped mid-DATA): the verdict is tempfail. */
  fail(err: Error): Promise<Verdict> {
    const pass = this.#passStarted();
    this.#sourceError = err;
    pass.abort(err);
    this.#finishing ??= this.#finish();
    return this.#finishing;
  }

  /** Stream-feeds a whole message and returns the verdict. */
  async data(
    source: Buffer | string | Readable | AsyncIterable<Buffer | string>,
    options: { keep?: boolean } = {},
  ): Promise<Verdict> {
    this.begin(options);
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      const buf = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
      for (let i = 0; i < buf.length; i += CHUNK) await this.write(buf.subarray(i, i + CHUNK));
      return this.end();
    }
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) await this.write(chunk);
    } catch (err) {
      return this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    return this.end();
  }

  /**
   * The message as it should be handed on: the verdict's header changes applied to the root
   * header block, every other byte as received. With no changes it is the input, byte for
   * byte. Needs `data(source, { keep: true })` (or `begin({ keep: true })`).
   */
  output(): Readable {
    const store = this.#store;
    const v = this.#verdict;
    if (!store || !v || !this.#pass) {
      throw new MefError(
        'MEF_CORE_OUTPUT_UNAVAILABLE',
        'output() needs a decided message that was kept: use data(source, { keep: true })',
      );
    }
    return rewrittenMessage(this.#pass, store, v.mutations);
  }

  /** Removes the kept message (temporary file included). Call when the transaction ends. */
  async dispose(): Promise<void> {
    if (this.#pass && !this.#finishing) {
      this.#sourceError = new Error('transaction disposed before the end of the message');
      this.#pass.abort(this.#sourceError);
      this.#finishing = this.#finish();
      await this.#finishing.catch(() => {});
    }
    await this.#store?.dispose();
  }

  #passStarted(): MessagePass {
    if (!this.#pass) this.begin();
    return this.#pass as MessagePass;
  }

  async #finish(): Promise<Verdict> {
    const lastByte = performance.now();
    if (!this.#sourceError) await this.#pass?.end();
    this.#passEnded?.();
    const messageTimes: StageTimes = newTimes();
    this.#times.message = messageTimes;
    await finishMessageStages(this.#messageStages, lastByte, messageTimes);
    if (this.#sourceError) {
      this.#findings.errors.push({
        stage: 'engine',
        kind: 'unavailable',
        code: 'MEF_CORE_SOURCE_ABORTED',
        message: `message source failed: ${this.#sourceError.message}`,
        policy: 'tempfail',
        disposition: 'tempfail',
      });
    }
    const { runtime } = this.#conn;
    const input = messageInput(runtime, this.context, this.#conn.findings, this.#findings);
    let verdict = decide(input);
    if (this.#sourceError) {
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
    } else if (runtime.stages.some((s) => s.plugin.scored && !this.#skipped.has(s.name))) {
      // Stages that act on the score (greylisting) see the verdict, then it is decided again
      // with what they recorded.
      const scoredTimes = newTimes();
      this.#times.scored = scoredTimes;
      const set = await runPhase({
        times: scoredTimes,
        runtime,
        phase: 'scored',
        verdict,
        skipped: this.#skipped,
        context: () => this.context,
        scope: 'transaction',
      });
      if (set.symbols.length || set.forced.length || set.errors.length || set.mutations.length) {
        mergeFindings(this.#findings, set);
        verdict = decide({
          ...input,
          symbols: [...input.symbols, ...set.symbols],
          forced: [...input.forced, ...set.forced],
          errors: [...input.errors, ...set.errors],
          mutations: [...input.mutations, ...set.mutations],
        });
      }
    }
    verdict = { ...verdict, timings: verdictTimings(this.#times) };
    this.#verdict = verdict;
    return verdict;
  }
}
