import { randomBytes } from 'node:crypto';
import type { ConnectionInfo, TransactionContext, TransactionState } from '../context.js';
import { invalidOption, MefError } from '../errors.js';
import { emptyFindings, type FindingSet, type RecordedFindings } from '../recorder.js';
import { clientAddress } from '../util/net.js';
import type { Verdict } from '../verdict.js';
import { phaseVerdict } from './decision.js';
import { newTimes, runPhase, verdictTimings } from './run-stage.js';
import type { ConnectionScope, EngineRuntime, TransactionFacts } from './runtime.js';
import { Transaction } from './transaction.js';

let counter = 0;
/**
 * Random bytes for the ids, drawn 3 KiB at a time: one `randomBytes` call per connection was a
 * visible share of a milter's CPU per message (a call into the system's random source each).
 */
const POOL_SIZE = 3 * 1024;
let pool = Buffer.alloc(0);
let poolAt = POOL_SIZE;

/** Three random bytes as six upper-case hex digits, from the pool. */
function randomHex(): string {
  if (poolAt + 3 > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  poolAt += 3;
  return pool.toString('hex', poolAt - 3, poolAt).toUpperCase();
}

/** A connection id: time, randomness and a counter, upper-case base 36 and hex. */
function makeId(): string {
  counter = (counter + 1) % 0xffffff;
  return `${Date.now().toString(36).toUpperCase()}${randomHex()}${counter.toString(36).toUpperCase()}`;
}

/** One SMTP connection. Hosts open it with `engine.connection(info)`. */
export class Connection {
  readonly id: string;
  /** Shared state of the connection; each transaction starts with a copy. */
  readonly state: TransactionState = {};
  readonly #runtime: EngineRuntime;
  readonly #findings: FindingSet = emptyFindings();
  readonly #skipped = new Map<string, string>();
  readonly #clientAddress: string;
  readonly #scope: ConnectionScope;
  /** The host's facts, copied: a host changing its own object later changes nothing here. */
  #info: ConnectionInfo;
  #heloName: string | undefined;
  #closed = false;
  #txCount = 0;

  /** @internal Hosts open connections with `engine.connection()`. */
  constructor(runtime: EngineRuntime, info: ConnectionInfo) {
    this.#runtime = runtime;
    this.id = info.id ?? makeId();
    this.#info = Object.freeze({ ...info });
    this.#clientAddress = clientAddress(info.clientAddress);
    this.#scope = {
      runtime,
      findings: this.#findings,
      skipped: this.#skipped,
      state: this.state,
      context: (tx) => this.#context(tx),
    };
  }

  /** The connection facts: as the host gave them, with `user` and `direction` once authenticated. */
  get info(): ConnectionInfo {
    return this.#info;
  }

  /** The HELO or EHLO argument, once given. */
  get heloName(): string | undefined {
    return this.#heloName;
  }

  /** Findings of connect and HELO: they count in every transaction of the connection. */
  get findings(): RecordedFindings {
    return this.#findings;
  }

  /** Stages skipped for the connection (and every transaction it starts), with the reason. */
  get skipped(): ReadonlyMap<string, string> {
    return this.#skipped;
  }

  #context(tx?: TransactionFacts): TransactionContext {
    return {
      id: tx?.id ?? this.id,
      connectionId: this.id,
      clientAddress: this.#clientAddress,
      clientPort: this.#info.clientPort ?? 0,
      reverseName: this.#info.reverseName,
      helo: this.#heloName,
      tls: this.#info.tls,
      user: this.#info.user,
      direction: this.#info.direction ?? 'inbound',
      mailFrom: tx?.mailFrom,
      recipients: tx?.recipients ?? [],
      state: tx?.state ?? this.state,
      skipped: tx?.skipped ?? this.#skipped,
    };
  }

  async #connectionPhase(phase: 'connect' | 'helo'): Promise<Verdict> {
    const times = newTimes();
    const set = await runPhase({
      times,
      runtime: this.#runtime,
      phase,
      into: this.#findings,
      skipped: this.#skipped,
      context: () => this.#context(),
      scope: 'connection',
    });
    return phaseVerdict(this.#runtime, set, this.#context(), verdictTimings({ [phase]: times }));
  }

  /** Runs the connect phase. */
  connect(): Promise<Verdict> {
    return this.#connectionPhase('connect');
  }

  /** Runs the HELO phase. */
  async helo(name: string): Promise<Verdict> {
    if (typeof name !== 'string') throw invalidOption('helo', name, 'a string');
    this.#heloName = name;
    return await this.#connectionPhase('helo');
  }

  /**
   * Records the user the client authenticated as (SMTP AUTH; a milter's `{auth_authen}`).
   * Every phase that runs after it sees `user`, and `direction: 'outbound'`: an authenticated
   * client submits mail, as on a submission port. Call it between transactions (SMTP allows
   * AUTH only there); a transaction already started sees the user from its next phase on.
   * Calling it again with the same user does nothing; with another user it throws
   * `MEF_CORE_PHASE_ORDER`, since SMTP allows one successful AUTH per session.
   */
  authenticate(user: string): void {
    if (typeof user !== 'string' || user === '') throw invalidOption('user', user, 'a non-empty string');
    if (this.#closed) throw new MefError('MEF_CORE_PHASE_ORDER', 'connection is closed');
    const current = this.#info.user;
    if (current === user && this.#info.direction === 'outbound') return;
    if (current !== undefined && current !== user) {
      throw new MefError('MEF_CORE_PHASE_ORDER', `already authenticated as ${JSON.stringify(current)}`);
    }
    this.#info = Object.freeze({ ...this.#info, user, direction: 'outbound' });
  }

  /** Starts a transaction (after MAIL FROM the host calls `mailFrom` on it). */
  transaction(): Transaction {
    if (this.#closed) throw new MefError('MEF_CORE_PHASE_ORDER', 'connection is closed');
    this.#txCount++;
    return new Transaction(this.#scope, this.#txCount === 1 ? this.id : `${this.id}.${this.#txCount}`);
  }

  /** Runs the close hooks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await runPhase({
      runtime: this.#runtime,
      phase: 'close',
      skipped: this.#skipped,
      context: () => this.#context(),
      scope: 'transaction',
    });
  }
}
