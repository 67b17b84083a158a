import type { Socket } from 'node:net';
import {
  type Connection,
  type Engine,
  type Logger,
  type MilterAction,
  type Transaction,
  toMilter,
  type Verdict,
} from '@mef/core';
import { MilterError } from './errors.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  FrameDecoder,
  joinStrings,
  parseAddressArgs,
  parseConnect,
  parseMacros,
  parseOptneg,
  splitStrings,
} from './frame.js';
import {
  ActionFlag,
  Command,
  type Frame,
  MILTER_VERSION,
  type Negotiated,
  ProtocolFlag,
  Reply,
} from './protocol.js';

/** Options of a milter session (and of the server that opens one per MTA connection). */
export interface MilterOptions {
  /** The engine every message runs through; started by the server's `listen`. */
  readonly engine: Engine;
  /**
   * While a verdict is pending, send PROGRESS this often (ms), so that the MTA's timeout
   * (Postfix `milter_content_timeout`, 300 s; `milter_command_timeout`, 30 s) does not fire.
   * Default 10,000.
   */
  readonly progressInterval?: number;
  /** Largest frame accepted (bytes). Default 1 MiB + 1 KiB. */
  readonly maxFrameSize?: number;
  /** Close a connection idle this long (ms). Default 900,000 (15 min). */
  readonly idleTimeout?: number;
  /** Logger; default: the engine's. */
  readonly log?: Logger;
}

/** Modifications we may ask for, when the MTA offers them. */
const WANTED_ACTIONS = ActionFlag.ADDHDRS | ActionFlag.CHGHDRS | ActionFlag.QUARANTINE;
/** Steps we skip and replies we do not send, when the MTA offers to. */
const WANTED_PROTOCOL =
  ProtocolFlag.NOUNKNOWN |
  ProtocolFlag.NODATA |
  ProtocolFlag.NR_HDR |
  ProtocolFlag.NR_EOH |
  ProtocolFlag.HDR_LEADSPC;

/** The protocol flag that says a command gets no reply. */
const NO_REPLY_FLAG: Record<string, number> = {
  [Command.CONNECT]: ProtocolFlag.NR_CONN,
  [Command.HELO]: ProtocolFlag.NR_HELO,
  [Command.MAIL]: ProtocolFlag.NR_MAIL,
  [Command.RCPT]: ProtocolFlag.NR_RCPT,
  [Command.DATA]: ProtocolFlag.NR_DATA,
  [Command.UNKNOWN]: ProtocolFlag.NR_UNKN,
  [Command.HEADER]: ProtocolFlag.NR_HDR,
  [Command.EOH]: ProtocolFlag.NR_EOH,
  [Command.BODY]: ProtocolFlag.NR_BODY,
};

/** The action bit a modification needs. */
const ACTION_BIT: Partial<Record<MilterAction['cmd'], number>> = {
  h: ActionFlag.ADDHDRS,
  i: ActionFlag.ADDHDRS,
  m: ActionFlag.CHGHDRS,
  q: ActionFlag.QUARANTINE,
};

/** Frames queued before the socket is paused (the MTA waits for most replies anyway). */
const QUEUE_HIGH = 16;

/** Encodes one milter action as a reply frame. */
export function encodeAction(a: MilterAction, leadingSpace = false): Buffer {
  const value = (v: string) => (leadingSpace && v && !/^[ \t]/.test(v) ? ` ${v}` : v);
  switch (a.cmd) {
    case 'y':
      return encodeFrame(a.cmd, joinStrings(a.text));
    case 'q':
      return encodeFrame(a.cmd, joinStrings(a.reason));
    case 'h':
      return encodeFrame(a.cmd, joinStrings(a.header, value(a.value)));
    case 'i':
    case 'm': {
      const index = Buffer.alloc(4);
      index.writeUInt32BE(a.index >>> 0, 0);
      return encodeFrame(a.cmd, Buffer.concat([index, joinStrings(a.header, a.value ? value(a.value) : '')]));
    }
    default:
      return encodeFrame(a.cmd);
  }
}

/** The reply to an envelope phase: the final answer when there is one, else continue. */
function phaseAction(v: Verdict): MilterAction {
  if (v.disposition === 'reject' || v.disposition === 'tempfail' || v.disposition === 'discard') {
    return toMilter(v).at(-1) as MilterAction;
  }
  return { cmd: 'c', name: 'continue' };
}

/** One MTA connection: frames in, engine calls, replies out, strictly in order. */
export class MilterSession {
  private readonly decoder: FrameDecoder;
  private readonly queue: Frame[] = [];
  private running = false;
  private closed = false;
  private negotiated: Negotiated | undefined;
  private readonly macros = new Map<string, Map<string, string>>();
  private conn: Connection | undefined;
  private tx: Transaction | undefined;
  private subject: string | undefined;
  /** Header fields of the message so far: written to the engine in one piece at EOH. */
  private headerBlock: Buffer[] = [];
  private headerBytes = 0;
  private readonly log: Logger;
  private readonly progressInterval: number;

  constructor(
    private readonly socket: Socket,
    private readonly options: MilterOptions,
  ) {
    this.decoder = new FrameDecoder(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    this.log = options.log ?? options.engine.log;
    this.progressInterval = options.progressInterval ?? 10_000;
    socket.setTimeout(options.idleTimeout ?? 900_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'milter connection error'));
    socket.on('close', () => void this.shutdown());
  }

  /** The macros the MTA sent for a command (`C`, `H`, `M`, `R`, `T`, `L`, `N`, `E`). */
  macrosFor(command: string): ReadonlyMap<string, string> {
    return this.macros.get(command) ?? new Map();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const f of this.decoder.push(chunk)) this.queue.push(f);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.queue.length >= QUEUE_HIGH) this.socket.pause();
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length) {
        const frame = this.queue.shift() as Frame;
        if (this.queue.length < QUEUE_HIGH / 2) this.socket.resume();
        await this.handle(frame);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.running = false;
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

  private replies(command: string): boolean {
    const flag = NO_REPLY_FLAG[command];
    return !(flag && this.negotiated && (this.negotiated.protocol & flag) !== 0);
  }

  /** Awaits engine work, sending PROGRESS meanwhile so the MTA keeps waiting. */
  private async withProgress<T>(work: Promise<T>): Promise<T> {
    const timer = setInterval(() => this.send(encodeFrame(Reply.PROGRESS)), this.progressInterval);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  private reply(command: string, action: MilterAction): void {
    if (this.replies(command)) this.send(encodeAction(action));
  }

  private needTx(what: string): Transaction {
    if (!this.tx)
      throw new MilterError('MEF_MILTER_PROTOCOL', `${what} outside a transaction (no MAIL before it)`);
    return this.tx;
  }

  private async handle(frame: Frame): Promise<void> {
    const { command, data } = frame;
    switch (command) {
      case Command.OPTNEG:
        return this.optneg(data);
      case Command.MACRO: {
        const m = parseMacros(data);
        this.macros.set(m.command, m.macros);
        return;
      }
      case Command.CONNECT:
        return this.connect(data);
      case Command.HELO: {
        const conn = this.needConn('HELO');
        const v = await this.withProgress(conn.helo(splitStrings(data)[0] ?? ''));
        return this.reply(command, phaseAction(v));
      }
      case Command.MAIL: {
        const conn = this.needConn('MAIL');
        await this.endTransaction();
        const { address, params } = parseAddressArgs(data);
        this.tx = conn.transaction();
        const v = await this.withProgress(this.tx.mailFrom(address, params));
        return this.reply(command, phaseAction(v));
      }
      case Command.RCPT: {
        const { address, params } = parseAddressArgs(data);
        const v = await this.withProgress(this.needTx('RCPT').rcptTo(address, params));
        return this.reply(command, phaseAction(v));
      }
      case Command.DATA:
      case Command.UNKNOWN:
        return this.reply(command, { cmd: 'c', name: 'continue' });
      case Command.HEADER:
        return this.header(data);
      case Command.EOH:
        await this.flushHeaders(this.needTx('EOH'), true);
        return this.reply(command, { cmd: 'c', name: 'continue' });
      case Command.BODY:
        await this.withProgress(this.needTx('BODY').write(data));
        return this.reply(command, { cmd: 'c', name: 'continue' });
      case Command.BODYEOB:
        return this.endOfMessage(data);
      case Command.ABORT:
        // The MTA may send ABORT twice (end of a transaction and again at QUIT): no reply, idempotent.
        await this.endTransaction();
        return;
      case Command.QUIT_NC:
        // Connection reuse: the next SMTP session starts on this socket with CONNECT.
        await this.closeConnection();
        this.macros.clear();
        return;
      case Command.QUIT:
        await this.closeConnection();
        this.socket.end();
        return;
      default:
        throw new MilterError('MEF_MILTER_PROTOCOL', `unknown command ${JSON.stringify(command)}`);
    }
  }

  private optneg(data: Buffer): void {
    const offer = parseOptneg(data);
    if (offer.version < 2) {
      throw new MilterError('MEF_MILTER_VERSION', `the MTA offered milter protocol version ${offer.version}`);
    }
    const version = Math.min(offer.version, MILTER_VERSION);
    // Flags beyond what an old MTA knows are not ours to ask for.
    const protocol = version >= 6 ? WANTED_PROTOCOL & offer.protocol : 0;
    this.negotiated = { version, actions: WANTED_ACTIONS & offer.actions, protocol };
    const out = Buffer.alloc(12);
    out.writeUInt32BE(version, 0);
    out.writeUInt32BE(this.negotiated.actions, 4);
    out.writeUInt32BE(protocol, 8);
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
    const localPort = Number(macros?.get('daemon_port'));
    this.conn = this.options.engine.connection({
      clientAddress: ip.replace(/^IPv6:/i, ''),
      ...(info.port ? { clientPort: info.port } : {}),
      ...(reverse ? { reverseName: info.hostname } : {}),
      ...(macros?.get('daemon_addr') ? { localAddress: macros.get('daemon_addr') as string } : {}),
      ...(localPort > 0 ? { localPort } : {}),
    });
    const v = await this.withProgress(this.conn.connect());
    this.reply(Command.CONNECT, phaseAction(v));
  }

  private async header(data: Buffer): Promise<void> {
    const [name = '', value = ''] = splitStrings(data);
    const lead = this.negotiated && (this.negotiated.protocol & ProtocolFlag.HDR_LEADSPC) !== 0;
    // Folded lines may come with bare LF; the message the stages see uses CRLF throughout.
    const text = `${name}:${lead ? '' : ' '}${value}`.replace(/\r?\n/g, '\r\n');
    if (this.subject === undefined && name.toLowerCase() === 'subject') this.subject = value.trim();
    const tx = this.needTx('HEADER');
    const field = Buffer.from(`${text}\r\n`, 'latin1');
    this.headerBlock.push(field);
    this.headerBytes += field.length;
    // One write per header block, not per field; a huge block still goes on in bounded pieces.
    if (this.headerBytes >= 64 * 1024) await this.flushHeaders(tx, false);
    this.reply(Command.HEADER, { cmd: 'c', name: 'continue' });
  }

  private async flushHeaders(tx: Transaction, end: boolean): Promise<void> {
    if (end) this.headerBlock.push(Buffer.from('\r\n'));
    const block = Buffer.concat(this.headerBlock);
    this.headerBlock = [];
    this.headerBytes = 0;
    if (block.length) await this.withProgress(tx.write(block));
  }

  private async endOfMessage(data: Buffer): Promise<void> {
    const tx = this.needTx('end of message');
    // No EOH (the MTA skipped it, SMFIP_NOEOH): the fields gathered so far still count.
    if (this.headerBlock.length) await this.flushHeaders(tx, false);
    if (data.length) await this.withProgress(tx.write(data));
    const v = await this.withProgress(tx.end());
    const actions = this.permitted(v);
    for (const a of actions) this.send(encodeAction(a, this.leadingSpace()));
    await this.endTransaction();
  }

  private leadingSpace(): boolean {
    return this.negotiated !== undefined && (this.negotiated.protocol & ProtocolFlag.HDR_LEADSPC) !== 0;
  }

  /** The verdict's actions, without modifications the MTA did not allow. */
  private permitted(v: Verdict): MilterAction[] {
    const allowed = this.negotiated?.actions ?? 0;
    const out: MilterAction[] = [];
    for (const a of toMilter(v, this.subject)) {
      const bit = ACTION_BIT[a.cmd];
      if (bit !== undefined && (allowed & bit) === 0) {
        this.log.warn({ action: a.name }, 'milter: the MTA did not allow this modification; skipped');
        continue;
      }
      out.push(a);
    }
    return out;
  }

  private async endTransaction(): Promise<void> {
    const tx = this.tx;
    this.tx = undefined;
    this.subject = undefined;
    this.headerBlock = [];
    this.headerBytes = 0;
    for (const c of [
      Command.MAIL,
      Command.RCPT,
      Command.DATA,
      Command.EOH,
      Command.BODYEOB,
      Command.HEADER,
    ]) {
      this.macros.delete(c);
    }
    await tx?.dispose();
  }

  private async closeConnection(): Promise<void> {
    await this.endTransaction();
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }

  private async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    await this.closeConnection().catch((err: unknown) => this.log.debug({ err }, 'milter cleanup failed'));
  }
}
