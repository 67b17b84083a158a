/**
 * The sender's side of a relay's latency: a small SMTP client on raw sockets that sends 10 KB
 * messages, one per connection (as `smtp-source` does), and times each message from the moment
 * its last byte (the final dot) is written to the moment the 250 for it arrives. Sent straight to
 * a destination, that is the destination's own time; sent through a relay to the same
 * destination, the relay's scan and hand-over come on top: the difference is what the relay adds.
 */
import { connect, type Socket } from 'node:net';

/** A 10 KB message with the usual headers; each copy gets its own Message-ID. */
function message(n: number): string {
  const line = `${'The quick brown fox jumps over the lazy dog. '.repeat(3).trimEnd()}\r\n`;
  const body = line.repeat(Math.ceil(10_000 / line.length));
  return [
    'From: <sender@example.test>',
    'To: <x@a.test>',
    `Subject: latency probe ${n}`,
    `Message-ID: <probe-${n}-${Date.now()}@example.test>`,
    'Date: Mon, 30 Nov 2026 12:00:00 +0000',
    '',
    body,
  ].join('\r\n');
}

/** Reads final reply lines (continuation lines skipped), each with the time it arrived. */
class Replies {
  private rest = '';
  private queue: { line: string; at: number }[] = [];
  private waiter: ((r: { line: string; at: number } | Error) => void) | undefined;
  private failed: Error | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      const at = performance.now();
      this.rest += d;
      for (let i = this.rest.indexOf('\n'); i >= 0; i = this.rest.indexOf('\n')) {
        const line = this.rest.slice(0, i).replace(/\r$/, '');
        this.rest = this.rest.slice(i + 1);
        if (line[3] !== '-') this.put({ line, at });
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private put(r: { line: string; at: number }): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(r);
    else this.queue.push(r);
  }

  private fail(err: Error): void {
    this.failed ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(err);
  }

  /** The next final reply line; rejects on a code other than `code`, a close or after 30 s. */
  async next(code: string): Promise<{ line: string; at: number }> {
    const r =
      this.queue.shift() ??
      (this.failed
        ? this.failed
        : await new Promise<{ line: string; at: number } | Error>((resolve) => {
            const timer = setTimeout(
              () => resolve(new Error(`no reply in 30 s (waiting for ${code})`)),
              30_000,
            );
            this.waiter = (x) => {
              clearTimeout(timer);
              resolve(x);
            };
          }));
    if (r instanceof Error) throw r;
    if (!r.line.startsWith(code)) throw new Error(`expected ${code}, got ${r.line}`);
    return r;
  }
}

/** One message on a new connection; resolves with ms from its last byte to the 250. */
async function sendOne(port: number, n: number): Promise<number> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  const replies = new Replies(socket);
  try {
    await replies.next('220');
    socket.write('EHLO probe.test\r\n');
    await replies.next('250');
    socket.write('MAIL FROM:<sender@example.test>\r\n');
    await replies.next('250');
    socket.write('RCPT TO:<x@a.test>\r\n');
    await replies.next('250');
    socket.write('DATA\r\n');
    await replies.next('354');
    socket.write(`${message(n)}\r\n.\r\n`);
    const last = performance.now();
    const done = await replies.next('250');
    socket.write('QUIT\r\n');
    await replies.next('221').catch(() => undefined);
    return done.at - last;
  } finally {
    socket.destroy();
  }
}

/**
 * Sends `count` messages over `sessions` parallel senders (each one message per connection, the
 * next when the previous is done) to `port`; resolves with each message's ms from its last
 * byte to the 250, and the rate in messages per second. With `pace` (messages per second) the
 * n-th message starts no earlier than n / pace seconds after the first: an offered load below
 * what the target can take, instead of as fast as it goes.
 */
export async function lastByteTo250(
  port: number,
  sessions: number,
  count: number,
  pace?: number,
): Promise<{ ms: number[]; perSecond: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (next < count) {
        const n = next++;
        if (pace) {
          const wait = t0 + (n * 1000) / pace - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        ms.push(await sendOne(port, n));
      }
    }),
  );
  return { ms, perSecond: count / ((performance.now() - t0) / 1000) };
}

/** The value at quantile `q` (nearest rank). */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}
