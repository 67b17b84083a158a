import { connect, type Socket } from 'node:net';

/** A raw SMTP client for the tests that need exact control of what is sent and when. */
export class Dialog {
  private buffer = '';
  private waiters: ((line: string) => void)[] = [];
  private replies: string[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (;;) {
        const m = /^(\d{3}) [^\n]*\n/m.exec(this.buffer);
        if (!m) break;
        const end = (m.index ?? 0) + m[0].length;
        const reply = this.buffer.slice(0, end).trimEnd();
        this.buffer = this.buffer.slice(end);
        const w = this.waiters.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w('(closed)');
    });
  }

  /** Connects to the relay on `port`, from `localAddress` when given (another loopback address). */
  static async open(port: number, localAddress?: string): Promise<Dialog> {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Dialog(socket);
  }

  /** The next reply (its last line decides), or `(closed)`, or `(timeout)` after `ms`. */
  reply(ms = 10_000): Promise<string> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve('(closed)');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve('(timeout)');
      }, ms);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiters.push(done);
    });
  }

  /** Sends a line and returns the reply's code (and text). */
  async cmd(line: string, ms?: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply(ms);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Greeting, EHLO, MAIL FROM; returns the dialog. */
export async function startTransaction(port: number, from = 'sender@example.test'): Promise<Dialog> {
  const d = await Dialog.open(port);
  const greeting = await d.reply();
  if (!greeting.startsWith('220')) throw new Error(`greeting: ${greeting}`);
  await d.cmd('EHLO client.test');
  const mail = await d.cmd(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) throw new Error(`MAIL: ${mail}`);
  return d;
}

/** A small well-formed message. */
export function message(subject: string, body: string, extraHeaders = ''): string {
  return `From: sender@example.test\r\nTo: someone@example.test\r\nSubject: ${subject}\r\nDate: Mon, 30 Nov 2026 05:00:00 +0000\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@example.test>\r\n${extraHeaders}\r\n${body}\r\n`;
}
