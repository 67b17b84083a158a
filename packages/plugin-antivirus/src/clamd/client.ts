import net from 'node:net';
import type { Readable } from 'node:stream';
import { AntivirusError } from '../errors.js';
import { type ClamdReply, parseScanReply } from './reply.js';

/** A clamd address: TCP on a host and port, or a unix socket path. */
export type ClamdAddress = { readonly host: string; readonly port: number } | { readonly path: string };

/** Options of {@link ClamdClient}. */
export interface ClamdClientOptions {
  /** clamd hosts, tried in order; a host that failed is skipped for `retryAfter` ms. */
  readonly hosts: readonly ClamdAddress[];
  /** Time to open a connection, per host (ms). Default 2000. */
  readonly connectTimeout?: number;
  /** Longest wait for clamd to take the next chunk or to answer after the last one (ms). Default 60000. */
  readonly timeout?: number;
  /** Small chunks are gathered up to this many bytes before they are framed and sent. Default 65536. */
  readonly chunkSize?: number;
  /** How long a host that failed is passed over while another is up (ms). Default 10000. */
  readonly retryAfter?: number;
  /**
   * Keep connections open between scans (clamd's `IDSESSION`): saves about 0.6 ms per scan on
   * loopback (measured: bench/src/antivirus-clamd.ts). Default true.
   */
  readonly keepAlive?: boolean;
  /** Close a kept connection after this long unused (ms); keep it below clamd's IdleTimeout (30 s). Default 5000. */
  readonly keepAliveIdle?: number;
  /** Most unused connections kept open. Default 8. */
  readonly keepAliveMax?: number;
}

/** A kept clamd connection in IDSESSION mode. */
interface SessionConn {
  readonly socket: net.Socket;
  readonly address: ClamdAddress;
  /** Commands sent on this connection so far (clamd numbers its replies with it). */
  requests: number;
  /** Listeners while it waits unused in the pool. */
  onIdleEvent?: (() => void) | undefined;
}

/** Describes an address for messages and symbols. */
export function describeAddress(a: ClamdAddress): string {
  return 'path' in a ? `unix:${a.path}` : `${a.host}:${a.port}`;
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

function abortError(signal: AbortSignal): AntivirusError {
  return new AntivirusError('MEF_AV_CLAMD_TIMEOUT', 'timeout', 'clamd scan aborted', {
    cause: signal.reason,
  });
}

function connectOnce(addr: ClamdAddress, timeout: number, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const socket =
      'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(
        new AntivirusError(
          'MEF_AV_CLAMD_UNAVAILABLE',
          'unavailable',
          `Cannot connect to clamd at ${describeAddress(addr)}: ${errno(err) ?? err.message}`,
          { cause: err },
        ),
      );
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(
        new AntivirusError(
          'MEF_AV_CLAMD_TIMEOUT',
          'timeout',
          `Connecting to clamd at ${describeAddress(addr)} took more than ${timeout} ms`,
        ),
      );
    }, timeout);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const TERMINATOR = Buffer.alloc(4);
const INSTREAM = Buffer.from('zINSTREAM\0', 'latin1');
/** A reply longer than this is garbage, not clamd. */
const MAX_REPLY = 64 * 1024;

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
  private readonly timeout: number;
  private readonly chunkSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private reply = '';
  private replyDone = false;
  /** The NUL that ends a `z` reply was seen. */
  private replyComplete = false;
  private closed = false;
  private socketError: Error | undefined;
  private ended = false;
  private waiters: Array<() => void> = [];
  private readonly signal: AbortSignal | undefined;

  private readonly release: ((reusable: boolean) => void) | undefined;
  private readonly requestId: number | undefined;

  constructor(
    socket: net.Socket,
    address: ClamdAddress,
    timeout: number,
    chunkSize: number,
    signal?: AbortSignal,
    session?: { requestId: number; release: (reusable: boolean) => void },
  ) {
    this.socket = socket;
    this.address = address;
    this.timeout = timeout;
    this.chunkSize = chunkSize;
    this.signal = signal;
    this.release = session?.release;
    this.requestId = session?.requestId;
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    socket.write(INSTREAM);
  }

  private readonly onData = (d: Buffer) => {
    if (this.replyDone) {
      this.extra = true;
      return;
    }
    this.reply += d.toString('latin1');
    const nul = this.reply.indexOf('\0');
    if (nul !== -1) {
      if (nul !== this.reply.length - 1) this.extra = true;
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

  private readonly onDrain = () => this.wake();

  /** Bytes after the reply: the connection is out of step and cannot be kept. */
  private extra = false;

  private readonly onAbort = () => {
    this.wake();
  };

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((f) => f !== done);
        this.socket.destroy();
        reject(
          new AntivirusError(
            'MEF_AV_CLAMD_TIMEOUT',
            'timeout',
            `clamd at ${describeAddress(this.address)} did not ${what} within ${ms} ms`,
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
    return this.closed || this.socketError !== undefined || this.replyDone || this.socket.destroyed;
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
      await this.wait(this.timeout, 'take the next chunk');
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
        await this.wait(this.timeout, 'answer');
      }
      if (this.reply.length === 0) {
        const code = errno(this.socketError);
        throw new AntivirusError(
          'MEF_AV_CLAMD_UNAVAILABLE',
          'unavailable',
          `clamd at ${describeAddress(this.address)} closed the connection without a reply${code ? ` (${code})` : ''}`,
          { cause: this.socketError },
        );
      }
      if (this.reply.length > MAX_REPLY) {
        throw new AntivirusError('MEF_AV_CLAMD_PROTOCOL', 'protocol', 'clamd reply too long');
      }
      if (!this.replyComplete && this.socketError !== undefined) {
        // A reset in the middle of the reply: what we have is a fragment, not an answer.
        throw new AntivirusError(
          'MEF_AV_CLAMD_UNAVAILABLE',
          'unavailable',
          `clamd at ${describeAddress(this.address)} reset the connection in the middle of its reply (${errno(this.socketError) ?? this.socketError.message})`,
          { cause: this.socketError },
        );
      }
      let text = this.reply;
      if (this.requestId !== undefined) {
        const prefix = `${this.requestId}: `;
        if (!text.startsWith(prefix)) {
          // clamd answers some failures before it has numbered the request.
          const unnumbered = parseScanReply(text);
          if (unnumbered.kind === 'error') return unnumbered;
          throw new AntivirusError(
            'MEF_AV_CLAMD_PROTOCOL',
            'protocol',
            `clamd session reply ${JSON.stringify(text.slice(0, 100))} is not for request ${this.requestId}`,
          );
        } else text = text.slice(prefix.length);
      }
      const reply = parseScanReply(text);
      reusable = reply.kind !== 'error' && !this.extra && !this.broken2();
      return reply;
    } finally {
      this.dispose(reusable);
    }
  }

  /** The connection itself failed or closed (an early reply alone does not count). */
  private broken2(): boolean {
    return this.closed || this.socketError !== undefined || this.socket.destroyed;
  }

  /** Closes the connection without waiting for a reply. */
  abort(): void {
    this.ended = true;
    this.dispose(false);
  }

  private dispose(reusable: boolean): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    this.socket.off('drain', this.onDrain);
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

/**
 * A client for clamd's protocol over TCP or unix sockets: `zPING`, `zVERSION` and
 * `zINSTREAM`, with failover between hosts and connect and scan timeouts.
 */
export class ClamdClient {
  readonly hosts: readonly ClamdAddress[];
  private readonly connectTimeout: number;
  private readonly timeout: number;
  private readonly chunkSize: number;
  private readonly retryAfter: number;
  private readonly downUntil = new Map<number, number>();
  private readonly keepAlive: boolean;
  private readonly keepAliveIdle: number;
  private readonly keepAliveMax: number;
  /** Unused kept connections, most recently used last. */
  private readonly idle: SessionConn[] = [];
  private closing = false;
  /** Connections opened, for tests and statistics. */
  connections = 0;

  constructor(options: ClamdClientOptions) {
    if (options.hosts.length === 0) throw new TypeError('ClamdClient needs at least one host');
    this.hosts = options.hosts;
    this.connectTimeout = options.connectTimeout ?? 2000;
    this.timeout = options.timeout ?? 60_000;
    this.chunkSize = options.chunkSize ?? 65_536;
    this.retryAfter = options.retryAfter ?? 10_000;
    this.keepAlive = options.keepAlive ?? true;
    this.keepAliveIdle = options.keepAliveIdle ?? 5000;
    this.keepAliveMax = options.keepAliveMax ?? 8;
  }

  /** Kept connections waiting unused. */
  get idleConnections(): number {
    return this.idle.length;
  }

  /** Takes a kept connection, or opens a new one in IDSESSION mode. */
  private async acquire(signal?: AbortSignal): Promise<SessionConn> {
    while (this.idle.length > 0) {
      const conn = this.idle.pop() as SessionConn;
      this.unpark(conn);
      if (!conn.socket.destroyed && conn.socket.readyState === 'open') return conn;
      conn.socket.destroy();
    }
    const { socket, address } = await this.connect(signal);
    socket.write('zIDSESSION\0');
    return { socket, address, requests: 0 };
  }

  private unpark(conn: SessionConn): void {
    if (conn.onIdleEvent) {
      conn.socket.off('data', conn.onIdleEvent);
      conn.socket.off('end', conn.onIdleEvent);
      conn.socket.off('close', conn.onIdleEvent);
      conn.socket.off('error', conn.onIdleEvent);
      conn.socket.off('timeout', conn.onIdleEvent);
      conn.onIdleEvent = undefined;
    }
    conn.socket.setTimeout(0);
    conn.socket.ref();
  }

  /** Puts a connection back after a clean reply, or drops it. */
  private park(conn: SessionConn, reusable: boolean): void {
    if (!reusable || this.closing || this.idle.length >= this.keepAliveMax || conn.socket.destroyed) {
      this.endSession(conn);
      return;
    }
    // Anything from clamd while unused (its IdleTimeout, a restart) retires the connection.
    const retire = () => {
      const i = this.idle.indexOf(conn);
      if (i !== -1) this.idle.splice(i, 1);
      this.unpark(conn);
      this.endSession(conn);
    };
    conn.onIdleEvent = retire;
    conn.socket.on('data', retire);
    conn.socket.on('end', retire);
    conn.socket.on('close', retire);
    conn.socket.on('error', retire);
    conn.socket.on('timeout', retire);
    conn.socket.setTimeout(this.keepAliveIdle);
    conn.socket.unref();
    this.idle.push(conn);
  }

  private endSession(conn: SessionConn): void {
    const { socket } = conn;
    socket.on('error', () => {});
    if (!socket.destroyed && socket.writable) socket.end('zEND\0');
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Closes the kept connections; later scans open new ones. */
  async close(): Promise<void> {
    this.closing = true;
    const all = this.idle.splice(0);
    for (const conn of all) {
      this.unpark(conn);
      conn.socket.destroy();
    }
    this.closing = false;
  }

  /** Hosts in the order to try: those not marked down first, then the rest. */
  private order(): number[] {
    const now = Date.now();
    const up: number[] = [];
    const down: number[] = [];
    this.hosts.forEach((_, i) => {
      ((this.downUntil.get(i) ?? 0) > now ? down : up).push(i);
    });
    return [...up, ...down];
  }

  /** Opens a connection to the first host that answers. */
  async connect(signal?: AbortSignal): Promise<{ socket: net.Socket; address: ClamdAddress }> {
    const errors: AntivirusError[] = [];
    for (const i of this.order()) {
      const address = this.hosts[i] as ClamdAddress;
      try {
        const socket = await connectOnce(address, this.connectTimeout, signal);
        this.connections++;
        this.downUntil.delete(i);
        return { socket, address };
      } catch (err) {
        if (signal?.aborted) throw err;
        this.downUntil.set(i, Date.now() + this.retryAfter);
        errors.push(err as AntivirusError);
      }
    }
    const last = errors[errors.length - 1];
    const allTimeouts = errors.every((e) => e.code === 'MEF_AV_CLAMD_TIMEOUT');
    throw new AntivirusError(
      allTimeouts ? 'MEF_AV_CLAMD_TIMEOUT' : 'MEF_AV_CLAMD_UNAVAILABLE',
      allTimeouts ? 'timeout' : 'unavailable',
      errors.map((e) => e.message).join('; '),
      { cause: last },
    );
  }

  /** Marks a host as failed (a connection that broke during a scan). */
  markDown(address: ClamdAddress): void {
    const i = this.hosts.indexOf(address);
    if (i !== -1) this.downUntil.set(i, Date.now() + this.retryAfter);
  }

  /** Sends a one-line command (`zPING`, `zVERSION`) and returns the reply. */
  async command(name: 'PING' | 'VERSION' | 'STATS', signal?: AbortSignal): Promise<string> {
    const { socket, address } = await this.connect(signal);
    return new Promise((resolve, reject) => {
      let got = '';
      const finish = (err: Error | undefined, value?: string) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value ?? '');
      };
      const timer = setTimeout(
        () =>
          finish(
            new AntivirusError(
              'MEF_AV_CLAMD_TIMEOUT',
              'timeout',
              `clamd at ${describeAddress(address)} did not answer ${name} within ${this.timeout} ms`,
            ),
          ),
        Math.min(this.timeout, this.connectTimeout + 5000),
      );
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const nul = got.indexOf('\0');
        if (nul !== -1) finish(undefined, got.slice(0, nul));
        else if (got.length > MAX_REPLY) {
          finish(new AntivirusError('MEF_AV_CLAMD_PROTOCOL', 'protocol', 'clamd reply too long'));
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (got.length > 0) finish(undefined, got);
        else
          finish(
            new AntivirusError(
              'MEF_AV_CLAMD_UNAVAILABLE',
              'unavailable',
              `clamd at ${describeAddress(address)} closed the connection without answering ${name}`,
            ),
          );
      });
      socket.write(`z${name}\0`);
    });
  }

  /** `zPING`: resolves when clamd answers PONG. */
  async ping(signal?: AbortSignal): Promise<void> {
    const r = await this.command('PING', signal);
    if (r.trim() !== 'PONG') {
      throw new AntivirusError(
        'MEF_AV_CLAMD_PROTOCOL',
        'protocol',
        `clamd answered ${JSON.stringify(r)} to PING`,
      );
    }
  }

  /** `zVERSION`: such as `ClamAV 1.4.3/27000/Mon Jan 1 2026`. */
  async version(signal?: AbortSignal): Promise<string> {
    const r = (await this.command('VERSION', signal)).trim();
    if (!/^ClamAV /.test(r)) {
      throw new AntivirusError(
        'MEF_AV_CLAMD_PROTOCOL',
        'protocol',
        `clamd answered ${JSON.stringify(r)} to VERSION`,
      );
    }
    return r;
  }

  /** Opens a `zINSTREAM` session on the first host that answers. */
  async instream(signal?: AbortSignal): Promise<InstreamSession> {
    if (!this.keepAlive) {
      const { socket, address } = await this.connect(signal);
      return new InstreamSession(socket, address, this.timeout, this.chunkSize, signal);
    }
    const conn = await this.acquire(signal);
    conn.requests++;
    return new InstreamSession(conn.socket, conn.address, this.timeout, this.chunkSize, signal, {
      requestId: conn.requests,
      release: (reusable) => this.park(conn, reusable),
    });
  }

  /** Scans a buffer or a stream (read to its end, with backpressure). */
  async scan(
    source: Buffer | Uint8Array | Readable | AsyncIterable<Buffer | Uint8Array>,
    signal?: AbortSignal,
  ): Promise<ClamdReply> {
    const session = await this.instream(signal);
    try {
      if (source instanceof Uint8Array) {
        for (let off = 0; off < source.length; off += this.chunkSize) {
          await session.write(source.subarray(off, off + this.chunkSize));
        }
      } else {
        for await (const chunk of source as AsyncIterable<Buffer | Uint8Array | string>) {
          await session.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        }
      }
    } catch (err) {
      session.abort();
      throw err;
    }
    return session.end();
  }
}
