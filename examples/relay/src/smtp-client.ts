/**
 * A small SMTP client for the forward path. It is written here rather than taken from
 * nodemailer because the relay must pass each step through as it happens: MAIL FROM when the
 * sender gives it, each RCPT TO with the destination's own reply, and DATA only after the scan.
 * nodemailer's SMTPConnection bundles MAIL, RCPT and DATA into one `send()` and cannot do that.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** One SMTP reply. */
export interface SmtpReply {
  code: number;
  enhanced: string | undefined;
  lines: string[];
}

export class SmtpClientError extends Error {
  constructor(
    message: string,
    readonly kind: 'connect' | 'timeout' | 'closed' | 'protocol',
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** Name for EHLO. */
  name: string;
  /** Connect and per-command timeout, ms. Default 30,000. */
  timeout?: number;
  /** Time to wait for the reply to the final dot, ms. Default 600,000 (RFC 5321 says 10 min). */
  dataTimeout?: number;
}

/** Converts a message to SMTP DATA form: CRLF line ends, leading dots doubled. */
export function* dotStuff(
  chunk: Buffer,
  state: { atLineStart: boolean; lastCR: boolean },
): Generator<Buffer> {
  let start = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (state.atLineStart && c === 0x2e) {
      yield chunk.subarray(start, i);
      yield Buffer.from('.');
      start = i;
    }
    if (c === 0x0a && !state.lastCR) {
      yield chunk.subarray(start, i);
      yield Buffer.from('\r');
      start = i;
    }
    state.atLineStart = c === 0x0a;
    state.lastCR = c === 0x0d;
  }
  if (start < chunk.length) yield chunk.subarray(start);
}

export class SmtpClient {
  private buffer = '';
  private waiting: ((r: SmtpReply | Error) => void) | undefined;
  private pending: (SmtpReply | Error)[] = [];
  private partial: string[] = [];
  private closedError: Error | undefined;
  readonly extensions = new Set<string>();
  sizeLimit = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly options: SmtpClientOptions,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    const fail = (err: Error) => {
      this.closedError ??= err;
      this.deliver(this.closedError);
    };
    socket.on('error', (err) =>
      fail(new SmtpClientError(`destination connection failed: ${err.message}`, 'closed')),
    );
    socket.on('close', () => fail(new SmtpClientError('destination closed the connection', 'closed')));
  }

  /** Connects, reads the greeting and says EHLO (HELO when EHLO is refused). */
  static async open(options: SmtpClientOptions): Promise<SmtpClient> {
    const timeout = options.timeout ?? 30_000;
    const socket = connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpClientError(`connect to ${options.host}:${options.port} timed out`, 'timeout'));
      }, timeout);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new SmtpClientError(`connect to ${options.host}:${options.port} failed: ${err.message}`, 'connect'),
        );
      });
    });
    const client = new SmtpClient(socket, options);
    const greeting = await client.read(timeout);
    if (greeting.code !== 220) {
      client.close();
      throw Object.assign(new SmtpClientError(`destination greeting ${greeting.code}`, 'protocol'), {
        reply: greeting,
      });
    }
    let ehlo = await client.command(`EHLO ${options.name}`);
    if (ehlo.code !== 250) ehlo = await client.command(`HELO ${options.name}`);
    if (ehlo.code !== 250) {
      client.close();
      throw Object.assign(new SmtpClientError(`destination refused HELO: ${ehlo.code}`, 'protocol'), {
        reply: ehlo,
      });
    }
    for (const line of ehlo.lines.slice(1)) {
      const [kw, arg] = line.trim().toUpperCase().split(/\s+/);
      if (kw) client.extensions.add(kw);
      if (kw === 'SIZE' && arg) client.sizeLimit = Number(arg) || 0;
    }
    return client;
  }

  private onData(data: string): void {
    this.buffer += data;
    if (this.buffer.length > 64 * 1024) {
      this.closedError = new SmtpClientError('destination reply too long', 'protocol');
      this.deliver(this.closedError);
      this.socket.destroy();
      return;
    }
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl === -1) return;
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) {
        this.deliver(
          new SmtpClientError(
            `destination sent a malformed reply: ${JSON.stringify(line.slice(0, 80))}`,
            'protocol',
          ),
        );
        continue;
      }
      this.partial.push(m[3]!);
      if (m[2] === ' ') {
        const code = Number(m[1]);
        const lines = this.partial;
        this.partial = [];
        const em = /^([245]\.\d{1,3}\.\d{1,3})\s+/.exec(lines[0] ?? '');
        this.deliver({
          code,
          enhanced: em?.[1],
          lines: em ? lines.map((l) => l.replace(/^[245]\.\d{1,3}\.\d{1,3}\s+/, '')) : lines,
        });
      }
    }
  }

  private deliver(r: SmtpReply | Error): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(r);
    } else this.pending.push(r);
  }

  /** Reads the next reply. */
  read(timeout = this.options.timeout ?? 30_000): Promise<SmtpReply> {
    const ready = this.pending.shift();
    if (ready) return ready instanceof Error ? Promise.reject(ready) : Promise.resolve(ready);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.socket.destroy();
        reject(new SmtpClientError(`destination did not answer within ${timeout} ms`, 'timeout'));
      }, timeout);
      this.waiting = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  /** Sends one command line and reads its reply. */
  async command(line: string, timeout?: number): Promise<SmtpReply> {
    if (/[\r\n]/.test(line)) throw new SmtpClientError('command contains a line break', 'protocol');
    if (this.closedError) throw this.closedError;
    this.socket.write(`${line}\r\n`);
    return this.read(timeout);
  }

  /** MAIL FROM with the parameters the destination supports. */
  mail(from: string, params: Record<string, string | true> = {}): Promise<SmtpReply> {
    const args: string[] = [];
    for (const [k, v] of Object.entries(params)) {
      const key = k.toUpperCase();
      if (key === 'BODY' && this.extensions.has('8BITMIME')) args.push(`BODY=${v}`);
      else if (key === 'SMTPUTF8' && this.extensions.has('SMTPUTF8')) args.push('SMTPUTF8');
      else if (key === 'SIZE' && this.extensions.has('SIZE')) args.push(`SIZE=${v}`);
    }
    return this.command(`MAIL FROM:<${from}>${args.length ? ` ${args.join(' ')}` : ''}`);
  }

  rcpt(to: string): Promise<SmtpReply> {
    return this.command(`RCPT TO:<${to}>`);
  }

  /** DATA: streams the message (dot-stuffed, CRLF) and returns the reply to the final dot. */
  async data(message: Readable): Promise<SmtpReply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    const state = { atLineStart: true, lastCR: false };
    let endsWithNewline = true;
    for await (const chunk of message) {
      const b = chunk as Buffer;
      if (!b.length) continue;
      if (this.closedError) throw this.closedError;
      for (const piece of dotStuff(b, state)) {
        if (piece.length && !this.socket.write(piece)) {
          await Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]);
        }
      }
      endsWithNewline = state.atLineStart;
    }
    if (this.closedError) throw this.closedError;
    this.socket.write(endsWithNewline ? '.\r\n' : '\r\n.\r\n');
    return this.read(this.options.dataTimeout ?? 600_000);
  }

  async rset(): Promise<SmtpReply> {
    return this.command('RSET');
  }

  /** Says QUIT (best effort) and closes. */
  async quit(): Promise<void> {
    try {
      if (!this.closedError) await this.command('QUIT', 5_000);
    } catch {
      // the connection is going away anyway
    }
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }
}
