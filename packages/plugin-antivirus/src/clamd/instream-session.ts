import type net from 'node:net';
import { AntivirusError } from '../errors.js';
import { abortError, type ClamdAddress, describeAddress, errnoOf, MAX_REPLY } from './connection.js';
import { type ClamdReply, parseScanReply } from './reply.js';

const TERMINATOR = Buffer.alloc(4);
const INSTREAM = Buffer.from('zINSTREAM\0', 'latin1');

/**
 * One `zINSTREAM` on one connection. `write` frames chunks with their 4-byte big-endian
 * length and waits for the socket to drain (backpressure); `end` sends the zero-length
 * terminator and reads the reply. If clamd closes the connection while we still write
 * (EPIPE, ECONNRESET: its size limit, or a crash), writes are dropped and `end` still
 * reads whatever reply clamd sent.
 */
export class InstreamSession {
  /** The clamd this session talks to. */
  readonly address: ClamdAddress;
  /** Payload bytes accepted so far. */
  bytes = 0;
  private readonly socket: net.Socket;
  private readonly scanTimeout: number;
  private readonly chunkSize: number;
  private readonly signal: AbortSignal | undefined;
  /** Hands a kept (IDSESSION) connection back to its pool; undefined for a one-scan connection. */
  private readonly release: ((reusable: boolean) => void) | undefined;
  /** The IDSESSION request number clamd prefixes its reply with. */
  private readonly requestId: number | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private reply = '';
  /** No more reply bytes are taken: a NUL was seen, or the reply grew past {@link MAX_REPLY}. */
  private replyDone = false;
  /** The NUL that ends a `z` reply was seen. */
  private replyComplete = false;
  /** Bytes came after the reply: the connection is out of step and cannot be kept. */
  private trailingBytes = false;
  private closed = false;
  private socketError: Error | undefined;
  private ended = false;
  private waiters: Array<() => void> = [];

  constructor(
    socket: net.Socket,
    address: ClamdAddress,
    scanTimeout: number,
    chunkSize: number,
    signal?: AbortSignal,
    session?: { requestId: number; release: (reusable: boolean) => void },
  ) {
    this.socket = socket;
    this.address = address;
    this.scanTimeout = scanTimeout;
    this.chunkSize = chunkSize;
    this.signal = signal;
    this.release = session?.release;
    this.requestId = session?.requestId;
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.wake);
    signal?.addEventListener('abort', this.wake, { once: true });
    socket.write(INSTREAM);
  }

  private readonly onData = (d: Buffer) => {
    if (this.replyDone) {
      this.trailingBytes = true;
      return;
    }
    this.reply += d.toString('latin1');
    const nul = this.reply.indexOf('\0');
    if (nul !== -1) {
      if (nul !== this.reply.length - 1) this.trailingBytes = true;
      this.reply = this.reply.slice(0, nul);
      this.replyDone = true;
      this.replyComplete = true;
      this.wake();
    } else if (this.reply.length > MAX_REPLY) {
      this.replyDone = true;
      this.wake();
    }
  };

  private readonly onError = (err: Error) => {
    this.socketError ??= err;
    this.wake();
  };

  private readonly onClose = () => {
    this.closed = true;
    this.wake();
  };

  private readonly wake = (): void => {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  };

  /** Waits for the next socket event, at most `ms`; `what` names what clamd failed to do in time. */
  private nextEvent(ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== done);
        this.socket.destroy();
        reject(
          new AntivirusError(
            'MEF_AV_CLAMD_TIMEOUT',
            `clamd at ${describeAddress(this.address)} did not ${what} within ${ms} ms`,
            { kind: 'timeout' },
          ),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        if (this.signal?.aborted) {
          this.socket.destroy();
          reject(abortError(this.signal));
        } else resolve();
      };
      this.waiters.push(done);
    });
  }

  /** True once clamd hung up or answered early: further writes are dropped. */
  get broken(): boolean {
    return this.connectionLost() || this.replyDone;
  }

  /** The connection itself failed or closed (an early reply alone does not count). */
  private connectionLost(): boolean {
    return this.closed || this.socketError !== undefined || this.socket.destroyed;
  }

  /** Sends a chunk of payload; resolves when the socket can take more. */
  async write(chunk: Buffer | Uint8Array): Promise<void> {
    if (this.ended) throw new Error('InstreamSession.write after end');
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    if (this.broken) return;
    this.pending.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
    );
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.chunkSize) await this.flush();
  }

  /** Frames the gathered chunks as one INSTREAM chunk and waits for the socket to drain. */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const size = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.broken) return;
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(size, 0);
    this.socket.cork();
    this.socket.write(header);
    let ok = true;
    for (const p of parts) ok = this.socket.write(p);
    this.socket.uncork();
    while (!ok && this.socket.writableNeedDrain && !this.broken) {
      await this.nextEvent(this.scanTimeout, 'take the next chunk');
      ok = !this.socket.writableNeedDrain;
    }
    if (ok) {
      // Let the event loop read: clamd may have answered early (its size limit) and be about
      // to reset the connection; a write after that fails with EPIPE and Node drops the
      // unread reply with the socket. Reading between chunks keeps that reply.
      await new Promise<void>((r) => setImmediate(r));
    }
    if (this.signal?.aborted) throw abortError(this.signal);
  }

  /** Sends the terminator and resolves with clamd's reply. */
  async end(): Promise<ClamdReply> {
    if (this.ended) throw new Error('InstreamSession.end called twice');
    this.ended = true;
    let reusable = false;
    try {
      await this.flush();
      if (!this.broken) this.socket.write(TERMINATOR);
      while (!this.replyDone && !this.closed) {
        await this.nextEvent(this.scanTimeout, 'answer');
      }
      const reply = this.readReply();
      reusable = reply.kind !== 'error' && !this.trailingBytes && !this.connectionLost();
      return reply;
    } finally {
      this.dispose(reusable);
    }
  }

  /** The reply received, checked and parsed (throws on none, a fragment, or another request's). */
  private readReply(): ClamdReply {
    if (this.reply.length === 0) {
      const code = errnoOf(this.socketError);
      throw new AntivirusError(
        'MEF_AV_CLAMD_UNAVAILABLE',
        `clamd at ${describeAddress(this.address)} closed the connection without a reply${code ? ` (${code})` : ''}`,
        { kind: 'unavailable', cause: this.socketError },
      );
    }
    if (this.reply.length > MAX_REPLY) {
      throw new AntivirusError('MEF_AV_CLAMD_PROTOCOL', 'clamd reply too long', { kind: 'protocol' });
    }
    if (!this.replyComplete && this.socketError !== undefined) {
      // A reset in the middle of the reply: what we have is a fragment, not an answer.
      throw new AntivirusError(
        'MEF_AV_CLAMD_UNAVAILABLE',
        `clamd at ${describeAddress(this.address)} reset the connection in the middle of its reply (${errnoOf(this.socketError) ?? this.socketError.message})`,
        { kind: 'unavailable', cause: this.socketError },
      );
    }
    if (this.requestId === undefined) return parseScanReply(this.reply);
    const prefix = `${this.requestId}: `;
    if (this.reply.startsWith(prefix)) return parseScanReply(this.reply.slice(prefix.length));
    // clamd answers some failures before it has numbered the request.
    const unnumbered = parseScanReply(this.reply);
    if (unnumbered.kind === 'error') return unnumbered;
    throw new AntivirusError(
      'MEF_AV_CLAMD_PROTOCOL',
      `clamd session reply ${JSON.stringify(this.reply.slice(0, 100))} is not for request ${this.requestId}`,
      { kind: 'protocol' },
    );
  }

  /** Closes the connection without waiting for a reply. */
  abort(): void {
    this.ended = true;
    this.dispose(false);
  }

  private dispose(reusable: boolean): void {
    this.signal?.removeEventListener('abort', this.wake);
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    this.socket.off('drain', this.wake);
    this.pending = [];
    this.pendingBytes = 0;
    if (!reusable || !this.release) {
      // A socket error after this point must not be unhandled.
      this.socket.on('error', () => {});
      this.socket.destroy();
    }
    this.release?.(reusable);
  }
}
