/**
 * The SMTP client of the forward path. It is ours rather than nodemailer's because the relay
 * passes each step through as it happens (MAIL FROM when the sender gives it, each RCPT with the
 * destination's own reply, DATA at the sender's final dot, the message only after the scan), and
 * nodemailer's `SMTPConnection.send()` bundles MAIL, RCPT and DATA into one call.
 *
 * Replies are read strictly in step with commands: a reply nobody asked for, or a reply code
 * that cannot answer the command sent (250 to DATA, 354 to RCPT), ends the connection as a
 * protocol error. Reading a stray reply as the answer to the next command is how a relay tells
 * a sender 250 for a message it never sent.
 */
import { once } from 'node:events';
import { connect, isIP, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  answers,
  type ReplyExpectation,
  ReplyReader,
  SmtpClientError,
  type SmtpReply,
  withTimeout,
} from './smtp-reply.js';
import { mailCommand, waitDrain, writeBody } from './smtp-write.js';

export { type ReplyExpectation, SmtpClientError, type SmtpReply } from './smtp-reply.js';
export { dotStuff } from './smtp-write.js';

/** TLS toward the next hop: `none`, STARTTLS when offered, or STARTTLS or fail. */
export type ClientTls = 'none' | 'opportunistic' | 'required';

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** Name for EHLO. */
  name: string;
  /** Connect, per-command and per-write timeout, ms. Default 30,000. */
  commandTimeout?: number;
  /** Time to wait for the reply to the final dot, ms. Default 600,000 (RFC 5321: 10 minutes). */
  dataTimeout?: number;
  /** STARTTLS policy. Default `none`. */
  tls?: ClientTls;
  /** Verify the next hop's certificate (with `ca` or the system store). Default false (encrypt only). */
  tlsVerify?: boolean;
  /** CA certificates (PEM) to verify against. */
  ca?: string | Buffer;
}

interface Waiter {
  expect: ReplyExpectation;
  settle: (r: SmtpReply | Error) => void;
}

export class SmtpClient {
  private socket: Socket | TLSSocket;
  private readonly reader = new ReplyReader();
  /** Replies awaited, in the order the commands were sent (more than one when pipelining). */
  private waiters: Waiter[] = [];
  private closedError: Error | undefined;
  /** Commands run one at a time, keep-alive NOOPs included. */
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;
  private lastUse = Date.now();
  private keepTimer: NodeJS.Timeout | undefined;
  readonly extensions = new Set<string>();
  sizeLimit = 0;
  /** True once STARTTLS succeeded. */
  encrypted = false;

  private constructor(
    socket: Socket,
    private readonly options: SmtpClientOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    const fail = (err: Error) => this.fail(err);
    socket.on('error', (err) =>
      fail(new SmtpClientError(`destination connection failed: ${err.message}`, 'closed')),
    );
    socket.on('close', () => fail(new SmtpClientError('destination closed the connection', 'closed')));
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    this.stopKeepAlive();
    const err2 = this.closedError;
    for (const w of this.waiters.splice(0)) w.settle(err2);
    this.socket.destroy();
  }

  /** Connects, reads the greeting, says EHLO (HELO when EHLO is refused), and STARTTLS as asked. */
  static async open(options: SmtpClientOptions): Promise<SmtpClient> {
    const client = await SmtpClient.connectPlain(options);
    const policy = options.tls ?? 'none';
    if (policy === 'none') return client;
    if (!client.extensions.has('STARTTLS')) {
      if (policy === 'required') {
        client.close();
        throw new SmtpClientError('destination does not offer STARTTLS and TLS is required', 'tls');
      }
      return client;
    }
    try {
      await client.startTls();
      return client;
    } catch (err) {
      client.close();
      if (policy === 'required') throw err;
      // Opportunistic: a broken TLS set-up must not stop mail, so go again in plain text.
      return SmtpClient.connectPlain(options);
    }
  }

  private static async connectPlain(options: SmtpClientOptions): Promise<SmtpClient> {
    const timeout = options.commandTimeout ?? 30_000;
    const socket = connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    try {
      await withTimeout(once(socket, 'connect'), timeout, () => socket.destroy());
    } catch (err) {
      socket.destroy();
      const what = err instanceof SmtpClientError ? 'timed out' : `failed: ${(err as Error).message}`;
      throw new SmtpClientError(`connect to ${options.host}:${options.port} ${what}`, 'connect');
    }
    const client = new SmtpClient(socket, options);
    const greeting = await client.exclusive(() => client.read('greeting', timeout));
    if (greeting.code !== 220) {
      client.close();
      throw Object.assign(new SmtpClientError(`destination greeting ${greeting.code}`, 'protocol'), {
        reply: greeting,
      });
    }
    await client.hello();
    return client;
  }

  private async hello(): Promise<void> {
    let ehlo = await this.command(`EHLO ${this.options.name}`, 'ehlo');
    if (ehlo.code !== 250) ehlo = await this.command(`HELO ${this.options.name}`, 'ehlo');
    if (ehlo.code !== 250) {
      this.close();
      throw Object.assign(new SmtpClientError(`destination refused HELO: ${ehlo.code}`, 'protocol'), {
        reply: ehlo,
      });
    }
    this.extensions.clear();
    for (const line of ehlo.lines.slice(1)) {
      const [kw, arg] = line.trim().toUpperCase().split(/\s+/);
      if (kw) this.extensions.add(kw);
      if (kw === 'SIZE' && arg) this.sizeLimit = Number(arg) || 0;
    }
  }

  private async startTls(): Promise<void> {
    const r = await this.command('STARTTLS', 'starttls');
    if (r.code !== 220) throw new SmtpClientError(`destination refused STARTTLS: ${r.code}`, 'tls');
    const raw = this.socket;
    raw.removeAllListeners('data');
    const tlsOptions: ConnectionOptions = {
      socket: raw,
      rejectUnauthorized: this.options.tlsVerify === true,
      // The certificate is checked against the destination's host: its name (also sent as SNI),
      // or its address (an IP subjectAltName).
      host: this.options.host,
      ...(isIP(this.options.host) ? {} : { servername: this.options.host }),
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    };
    const secure = tlsConnect(tlsOptions);
    try {
      await withTimeout(once(secure, 'secureConnect'), this.options.commandTimeout ?? 30_000, () =>
        secure.destroy(),
      );
    } catch (err) {
      secure.destroy();
      throw new SmtpClientError(`TLS with the destination failed: ${(err as Error).message}`, 'tls');
    }
    this.socket = secure;
    this.attach(secure);
    this.encrypted = true;
    await this.hello();
  }

  private onData(data: string): void {
    let replies: SmtpReply[];
    try {
      replies = this.reader.push(data);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const reply of replies) {
      const w = this.waiters[0];
      if (!w) {
        this.fail(
          new SmtpClientError(`destination sent a reply nobody asked for: ${reply.code}`, 'protocol'),
        );
        return;
      }
      if (!answers(w.expect, reply.code)) {
        this.fail(
          new SmtpClientError(
            `destination answered ${reply.code}, which cannot answer that command`,
            'protocol',
          ),
        );
        return;
      }
      this.waiters.shift();
      w.settle(reply);
    }
  }

  /** Reads the reply to the next command sent (replies are matched to commands in order). */
  private read(expect: ReplyExpectation, timeout: number): Promise<SmtpReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new SmtpClientError(`destination did not answer within ${timeout} ms`, 'timeout'));
      }, timeout);
      this.waiters.push({
        expect,
        settle: (r) => {
          clearTimeout(timer);
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      });
    });
  }

  /** Runs `fn` when no other command is in flight. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
        this.lastUse = Date.now();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private send(
    line: string,
    expect: ReplyExpectation,
    timeout = this.options.commandTimeout ?? 30_000,
  ): Promise<SmtpReply> {
    if (/[\r\n]/.test(line))
      return Promise.reject(new SmtpClientError('command contains a line break', 'protocol'));
    if (this.closedError) return Promise.reject(this.closedError);
    const reply = this.read(expect, timeout);
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  /** Sends one command line and reads its reply. */
  command(line: string, expect: ReplyExpectation = 'ordinary', timeout?: number): Promise<SmtpReply> {
    return this.exclusive(() => this.send(line, expect, timeout));
  }

  /**
   * Sends NOOP whenever the connection has been idle for `intervalMs`, so that a destination's
   * idle timeout does not end the session while a slow sender is still uploading. A failed
   * NOOP marks the connection failed: the next command reports it and the sender gets 4xx.
   */
  keepAlive(intervalMs: number): void {
    this.stopKeepAlive();
    this.keepTimer = setInterval(
      () => {
        if (this.busy || this.closedError || Date.now() - this.lastUse < intervalMs) return;
        this.command('NOOP').then(
          (r) => {
            if (r.code !== 250)
              this.fail(new SmtpClientError(`destination answered NOOP with ${r.code}`, 'protocol'));
          },
          () => undefined,
        );
      },
      Math.max(50, Math.floor(intervalMs / 4)),
    );
    this.keepTimer.unref();
  }

  private stopKeepAlive(): void {
    if (this.keepTimer) clearInterval(this.keepTimer);
    this.keepTimer = undefined;
  }

  /** MAIL FROM with the parameters the destination supports (8BITMIME, SMTPUTF8, SIZE). */
  mail(from: string, params: Readonly<Record<string, string | true>> = {}): Promise<SmtpReply> {
    return this.command(mailCommand(from, params, this.extensions));
  }

  /**
   * MAIL FROM and the first RCPT TO: in one write when the destination offers PIPELINING (RFC
   * 2920), which saves a round trip per message; else one after the other. Both replies are
   * read in order and checked against their commands.
   */
  mailRcpt(
    from: string,
    params: Readonly<Record<string, string | true>>,
    to: string,
  ): Promise<{ mail: SmtpReply; rcpt: SmtpReply | undefined }> {
    const mailLine = mailCommand(from, params, this.extensions);
    const rcptLine = `RCPT TO:<${to}>`;
    if (!this.extensions.has('PIPELINING')) {
      return this.command(mailLine).then(async (mail) =>
        mail.code === 250 ? { mail, rcpt: await this.command(rcptLine) } : { mail, rcpt: undefined },
      );
    }
    return this.exclusive(async () => {
      if (/[\r\n]/.test(mailLine + rcptLine))
        throw new SmtpClientError('command contains a line break', 'protocol');
      if (this.closedError) throw this.closedError;
      const timeout = this.options.commandTimeout ?? 30_000;
      const replies = Promise.all([this.read('ordinary', timeout), this.read('ordinary', timeout)]);
      this.socket.write(`${mailLine}\r\n${rcptLine}\r\n`);
      const [mail, rcpt] = await replies;
      return { mail, rcpt: mail.code === 250 ? rcpt : undefined };
    });
  }

  rcpt(to: string): Promise<SmtpReply> {
    return this.command(`RCPT TO:<${to}>`);
  }

  /** DATA: streams the message (dot-stuffed, CRLF) and returns the reply to the final dot. */
  data(message: Readable): Promise<SmtpReply> {
    return this.exclusive(async () => {
      const go = await this.send('DATA', 'data');
      if (go.code !== 354) return go;
      return this.streamBody(message);
    });
  }

  /**
   * DATA now, the message later: sends DATA and reads the 354 while the caller still scans, then
   * waits for `body`. A message is streamed with its final dot, and this resolves with the reply
   * to the dot; `undefined` closes the connection without the final dot (in DATA there is no
   * other way out; the destination keeps nothing) and resolves with `undefined`. A reply other
   * than 354 resolves at once. No keep-alive NOOP can land inside the message meanwhile.
   */
  dataAhead(body: Promise<Readable | undefined>): Promise<SmtpReply | undefined> {
    return this.exclusive(async () => {
      const go = await this.send('DATA', 'data');
      if (go.code !== 354) return go;
      const message = await body;
      if (!message) {
        this.close();
        return undefined;
      }
      return this.streamBody(message);
    });
  }

  /** Streams the message after a 354 and returns the reply to the final dot. */
  private async streamBody(message: Readable): Promise<SmtpReply> {
    const socket = this.socket;
    await writeBody(socket, message, {
      check: () => {
        if (this.closedError) throw this.closedError;
      },
      drained: () => this.drained(),
    });
    // The final dot leaves in the same write as the end of the message.
    const reply = this.send('.', 'ordinary', this.options.dataTimeout ?? 600_000);
    socket.uncork();
    return reply;
  }

  /** Waits for the socket to drain; a destination that stops reading is dropped after the timeout. */
  private async drained(): Promise<void> {
    const timeout = this.options.commandTimeout ?? 30_000;
    if (!(await waitDrain(this.socket, timeout)))
      this.fail(new SmtpClientError(`destination stopped reading for ${timeout} ms`, 'timeout'));
  }

  rset(): Promise<SmtpReply> {
    return this.command('RSET');
  }

  /** Says QUIT (best effort) and closes. */
  async quit(): Promise<void> {
    try {
      if (!this.closedError) await this.command('QUIT', 'ordinary', 5_000);
    } catch {
      // the connection is going away anyway
    }
    this.close();
  }

  close(): void {
    this.stopKeepAlive();
    this.closedError ??= new SmtpClientError('connection closed by the relay', 'closed');
    this.socket.destroy();
  }

  /** Whether the connection can still take commands. */
  get usable(): boolean {
    return this.closedError === undefined;
  }
}
