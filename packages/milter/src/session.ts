/**
 * One milter connection: frames in, the engine's phases as each command arrives, answers out.
 * About 400 lines on purpose: the command dispatch and its per-connection state (macros,
 * negotiated flags, deferred refusals) read best in one place; frames, actions, options and
 * negotiation are in their own files.
 */
import type { Socket } from 'node:net';
import type { ConnectionInfo, Logger, Verdict } from '@mef/core';
import type { Connection, ThreadPool, ThreadScan, Transaction } from '@mef/core/hosts';
import { encodeAction, encodeDelRcpt, isFinal, permittedActions, phaseAction } from './actions.js';
import { MilterError } from './errors.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  FrameDecoder,
  headerField,
  isSubject,
  macroValue,
  parseAddressArgs,
  parseConnect,
  parseMacros,
  parseOptneg,
  splitStrings,
} from './frame.js';
import { FrameQueue } from './frame-queue.js';
import { NO_REPLY_FLAG, negotiate } from './negotiate.js';
import type { MilterOptions } from './options.js';
import { Progress } from './progress.js';
import { Command, type Frame, MILTER_VERSION, type Negotiated, ProtocolFlag, Reply } from './protocol.js';
import { envelopeOf } from './threads.js';

const CONTINUE = encodeFrame(Reply.CONTINUE);
/** The phases whose commands need no reply when no stage acts at them. */
const IDLE_PHASES = ['connect', 'helo', 'mailFrom', 'rcptTo', 'message'] as const;
const PROGRESS = encodeFrame(Reply.PROGRESS);
/** The commands whose macros belong to one transaction. */
const TX_MACROS = [Command.MAIL, Command.RCPT, Command.DATA, Command.EOH, Command.BODYEOB, Command.HEADER];

/** One MTA connection: frames in, engine calls, replies out, strictly in order. */
export class MilterSession {
  private readonly decoder: FrameDecoder;
  private readonly queue: FrameQueue;
  private closed = false;
  private negotiated: Negotiated = { version: MILTER_VERSION, actions: 0, protocol: 0 };
  /** Each command's MACRO payload, as it came: parsed only where a value is read. */
  private readonly macros = new Map<string, Buffer>();
  private conn: Connection | undefined;
  private tx: Transaction | undefined;
  private subject: string | undefined;
  /** Header fields of the message so far: written to the engine in one piece at EOH. */
  private headerBlock: Buffer[] = [];
  private headerBytes = 0;
  /** Bytes written to the engine for this message, and whether the MTA was told to skip the rest. */
  private written = 0;
  private skipped = false;
  /** `end-of-message`: a refusal of the connection (CONNECT, HELO) or the transaction (MAIL). */
  private connRefusal: Verdict | undefined;
  private txRefusal: Verdict | undefined;
  /** `end-of-message`: recipients the engine refused, as the MTA gave them, with the verdict. */
  private refusedRcpts: { raw: string; verdict: Verdict }[] = [];
  private readonly log: Logger;
  private readonly progress: Progress;
  /** The pool the message phase runs in (`options.threads`, when no stage acts before the message). */
  private readonly threads: ThreadPool | undefined;
  /** The message a thread is reading, from its first byte to end of message. */
  private scan: ThreadScan | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: MilterOptions,
  ) {
    this.decoder = new FrameDecoder(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    this.queue = new FrameQueue({
      handle: (frame) => this.handle(frame),
      fail: (err) => this.fail(err),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    });
    this.log = options.log ?? options.engine.log;
    this.progress = new Progress(options.progressInterval ?? 10_000, () => this.send(PROGRESS));
    const early = IDLE_PHASES.some((p) => p !== 'message' && options.engine.stagesAt(p).length > 0);
    this.threads = early ? undefined : options.threads;
    // Replies are small and the MTA waits for them: no Nagle delay.
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeout ?? 900_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'milter connection error'));
    socket.on('close', () => void this.shutdown());
  }

  /** The macros the MTA sent for a command (`C`, `H`, `M`, `R`, `T`, `L`, `N`, `E`). */
  macrosFor(command: string): ReadonlyMap<string, string> {
    const raw = this.macros.get(command);
    return raw ? parseMacros(raw).macros : new Map();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.queue.push(this.decoder.push(chunk));
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.log.warn({ err }, 'milter protocol error: closing the connection');
    this.socket.destroy();
    void this.shutdown();
  }

  private send(frame: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(frame);
  }

  private has(flag: number): boolean {
    return (this.negotiated.protocol & flag) !== 0;
  }

  /** Awaits engine work, sending PROGRESS meanwhile so the MTA keeps waiting. */
  private withProgress<T>(work: Promise<T>): Promise<T> {
    return this.progress.around(work);
  }

  /** Answers an envelope phase, or (no reply negotiated) keeps a refusal for end of message. */
  private answer(command: string, v: Verdict, keep: (v: Verdict) => void): void {
    const flag = NO_REPLY_FLAG[command] ?? 0;
    if (!this.has(flag)) this.send(isFinal(v) ? encodeAction(phaseAction(v)) : CONTINUE);
    else if (isFinal(v)) keep(v);
  }

  private proceed(command: string): undefined {
    if (!this.has(NO_REPLY_FLAG[command] ?? 0)) this.send(CONTINUE);
  }

  private needTx(what: string): Transaction {
    if (!this.tx)
      throw new MilterError('MEF_MILTER_PROTOCOL', `${what} outside a transaction (no MAIL before it)`);
    return this.tx;
  }

  /** A refusal kept for end of message: the rest of the mail need not reach the engine. */
  private get refused(): Verdict | undefined {
    return this.connRefusal ?? this.txRefusal;
  }

  /** Handles one command: a promise only when the answer waits for the engine. */
  private handle(frame: Frame): Promise<void> | undefined {
    const { command, data } = frame;
    switch (command) {
      case Command.OPTNEG:
        return this.optneg(data);
      case Command.MACRO:
        if (data.length < 1) throw new MilterError('MEF_MILTER_PROTOCOL', 'MACRO without a command code');
        // A copy: the frame may be a slice of a large read, which the session should not hold.
        this.macros.set(String.fromCharCode(data[0] as number), Buffer.from(data));
        return;
      case Command.CONNECT:
        return this.connect(data);
      case Command.HELO:
        this.needConn('HELO');
        return this.refused ? this.proceed(command) : this.helo(data);
      case Command.MAIL:
        return this.mail(data);
      case Command.RCPT:
        this.needTx('RCPT');
        return this.refused ? this.proceed(command) : this.rcpt(data);
      case Command.DATA:
      case Command.UNKNOWN:
        return this.proceed(command);
      case Command.HEADER:
        return this.header(data);
      case Command.EOH:
        return this.refused ? this.proceed(command) : this.endOfHeaders();
      case Command.BODY:
        return this.body(data);
      case Command.BODYEOB:
        return this.endOfMessage(data);
      case Command.ABORT:
        // The MTA may send ABORT twice (end of a transaction and again at QUIT): no reply, idempotent.
        return this.endTransaction();
      case Command.QUIT_NC:
        // Connection reuse: the next SMTP session starts on this socket with CONNECT.
        return this.closeConnection().then(() => this.macros.clear());
      case Command.QUIT:
        return this.closeConnection().then(() => {
          this.socket.end();
        });
      default:
        throw new MilterError('MEF_MILTER_PROTOCOL', `unknown command ${JSON.stringify(command)}`);
    }
  }

  private async helo(data: Buffer): Promise<void> {
    const v = await this.withProgress(this.needConn('HELO').helo(splitStrings(data)[0] ?? ''));
    this.answer(Command.HELO, v, (r) => {
      this.connRefusal = r;
    });
  }

  private async rcpt(data: Buffer): Promise<void> {
    const { address, params } = parseAddressArgs(data);
    const v = await this.withProgress(this.needTx('RCPT').rcptTo(address, params));
    this.answer(Command.RCPT, v, (r) => {
      this.refusedRcpts.push({ raw: splitStrings(data)[0] ?? `<${address}>`, verdict: r });
    });
  }

  private async endOfHeaders(): Promise<void> {
    await this.flushHeaders(this.needTx('EOH'), true);
    this.proceed(Command.EOH);
  }

  private optneg(data: Buffer): undefined {
    const { engine, replyAt = 'each-command' } = this.options;
    const idle = IDLE_PHASES.filter((p) => engine.stagesAt(p).length === 0);
    this.negotiated = negotiate(parseOptneg(data), replyAt, idle, engine.limits.maxMessageBytes);
    const out = Buffer.alloc(12);
    out.writeUInt32BE(this.negotiated.version, 0);
    out.writeUInt32BE(this.negotiated.actions, 4);
    out.writeUInt32BE(this.negotiated.protocol, 8);
    this.send(encodeFrame(Reply.OPTNEG, out));
  }

  private needConn(what: string): Connection {
    if (!this.conn) throw new MilterError('MEF_MILTER_PROTOCOL', `${what} before CONNECT`);
    return this.conn;
  }

  private async connect(data: Buffer): Promise<void> {
    const info = parseConnect(data);
    await this.closeConnection();
    const reverse = info.hostname && !/^\[.*\]$/.test(info.hostname) && info.hostname !== 'unknown';
    const ip = info.family === '4' || info.family === '6' ? info.address : '127.0.0.1';
    const macros = this.macros.get(Command.CONNECT);
    const localPort = Number(macros && macroValue(macros, 'daemon_port'));
    const localAddress = macros && macroValue(macros, 'daemon_addr');
    const facts: ConnectionInfo = {
      clientAddress: ip.replace(/^IPv6:/i, ''),
      ...(info.port ? { clientPort: info.port } : {}),
      ...(reverse ? { reverseName: info.hostname } : {}),
      ...(localAddress ? { localAddress } : {}),
      ...(localPort > 0 ? { localPort } : {}),
    };
    this.conn = this.options.engine.connection(facts);
    const v = await this.withProgress(this.conn.connect());
    this.answer(Command.CONNECT, v, (r) => {
      this.connRefusal = r;
    });
  }

  private async mail(data: Buffer): Promise<void> {
    const conn = this.needConn('MAIL');
    // The MAIL macros came just before this command: they belong to the new transaction.
    const macros = this.macros.get(Command.MAIL);
    await this.endTransaction();
    if (macros) this.macros.set(Command.MAIL, macros);
    const { address, params } = parseAddressArgs(data);
    // An authenticated client (Postfix: smtpd_sasl_auth_enable; the macro is in
    // milter_mail_macros by default): the engine records the user and the outbound direction.
    const user = macros && macroValue(macros, 'auth_authen');
    if (user && conn.info.user === undefined) conn.authenticate(user);
    this.tx = conn.transaction();
    if (this.connRefusal) return this.proceed(Command.MAIL);
    const v = await this.withProgress(this.tx.mailFrom(address, params));
    this.answer(Command.MAIL, v, (r) => {
      this.txRefusal = r;
    });
  }

  private header(data: Buffer): Promise<void> | undefined {
    const tx = this.needTx('HEADER');
    if (!this.refused) {
      const field = headerField(data, this.has(ProtocolFlag.HDR_LEADSPC));
      if (this.subject === undefined && isSubject(data)) this.subject = splitStrings(data)[1]?.trim() ?? '';
      this.headerBlock.push(field);
      this.headerBytes += field.length;
      // One write per header block, not per field; a huge block still goes on in bounded pieces.
      if (this.headerBytes >= 64 * 1024) {
        return this.flushHeaders(tx, false).then(() => this.proceed(Command.HEADER));
      }
    }
    this.proceed(Command.HEADER);
  }

  private async flushHeaders(tx: Transaction, end: boolean): Promise<void> {
    if (end) this.headerBlock.push(Buffer.from('\r\n'));
    const block =
      this.headerBlock.length === 1 ? (this.headerBlock[0] as Buffer) : Buffer.concat(this.headerBlock);
    this.headerBlock = [];
    this.headerBytes = 0;
    if (block.length) await this.write(tx, block);
  }

  private async write(tx: Transaction, bytes: Buffer): Promise<void> {
    this.written += bytes.length;
    if (this.threads) return this.threadScan(tx).write(bytes);
    await this.withProgress(tx.write(bytes));
  }

  /** The message's thread scan, started with the envelope the engine heard. */
  private threadScan(tx: Transaction): ThreadScan {
    this.scan ??= (this.threads as ThreadPool).scan(envelopeOf(this.needConn('BODY'), tx));
    return this.scan;
  }

  /** The message's verdict: from its thread, or from the engine on this event loop. */
  private async verdict(tx: Transaction): Promise<Verdict> {
    if (!this.threads) return tx.end();
    const scan = this.threadScan(tx);
    this.scan = undefined;
    return (await scan.end()).verdict;
  }

  private async body(data: Buffer): Promise<void> {
    const tx = this.needTx('BODY');
    if (!this.refused && !this.skipped) await this.write(tx, data);
    // Past the engine's size limit the stages have stopped reading (the limit policy decides
    // the verdict): the MTA need not send the rest.
    if (
      !this.skipped &&
      this.has(ProtocolFlag.SKIP) &&
      (this.refused || this.written > this.options.engine.limits.maxMessageBytes)
    ) {
      this.skipped = true;
      this.log.debug({ bytes: this.written }, 'milter: no stage reads more of this body; SKIP');
      return this.send(encodeFrame(Reply.SKIP));
    }
    this.proceed(Command.BODY);
  }

  private async endOfMessage(data: Buffer): Promise<void> {
    const tx = this.needTx('end of message');
    const refusal = this.refused ?? this.allRecipientsRefused();
    if (refusal) {
      this.send(encodeAction(phaseAction(refusal)));
      return this.endTransaction();
    }
    // No EOH (the MTA skipped it, SMFIP_NOEOH): the fields gathered so far still count.
    if (this.headerBlock.length) await this.flushHeaders(tx, false);
    if (data.length && !this.skipped) await this.write(tx, data);
    const v = await this.withProgress(this.verdict(tx));
    const frames = permittedActions(v, this.negotiated.actions, this.subject, this.log).map((a) =>
      encodeAction(a, this.has(ProtocolFlag.HDR_LEADSPC)),
    );
    if (v.disposition === 'accept' || v.disposition === 'quarantine') {
      // The last frame is the final answer; recipient removals go before it.
      frames.splice(-1, 0, ...this.refusedRcpts.map((r) => encodeDelRcpt(r.raw)));
    }
    // One write for the whole answer.
    this.send(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    await this.endTransaction();
  }

  /** `end-of-message`: every recipient was refused, so the message is answered with the last refusal. */
  private allRecipientsRefused(): Verdict | undefined {
    if (!this.refusedRcpts.length || (this.tx?.context.recipients.length ?? 0) > 0) return undefined;
    return this.refusedRcpts.at(-1)?.verdict;
  }

  /** Forgets the transaction; a promise only when there was one to dispose of. */
  private endTransaction(): Promise<void> | undefined {
    const tx = this.tx;
    this.tx = undefined;
    // A message a thread is still reading (ABORT, QUIT or a lost connection): the thread drops it.
    this.scan?.end('the MTA ended the message before its end').catch(() => {});
    this.scan = undefined;
    this.subject = undefined;
    this.headerBlock = [];
    this.headerBytes = 0;
    this.written = 0;
    this.skipped = false;
    this.txRefusal = undefined;
    this.refusedRcpts = [];
    for (const c of TX_MACROS) this.macros.delete(c);
    return tx?.dispose();
  }

  private async closeConnection(): Promise<void> {
    await this.endTransaction();
    const conn = this.conn;
    this.conn = undefined;
    this.connRefusal = undefined;
    await conn?.close();
  }

  private async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.stop();
    this.progress.stop();
    await this.closeConnection().catch((err: unknown) => this.log.debug({ err }, 'milter cleanup failed'));
  }
}
