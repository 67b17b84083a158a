/**
 * SMTP replies as the forward client reads them: one parser of reply lines (multi-line replies
 * joined, enhanced status codes split off), and the reply codes each command can get.
 */

/** One SMTP reply. */
export interface SmtpReply {
  code: number;
  enhanced: string | undefined;
  lines: string[];
}

/** A failure of the connection to the next hop (not a reply: those are {@link SmtpReply}). */
export class SmtpClientError extends Error {
  constructor(
    message: string,
    readonly kind: 'connect' | 'timeout' | 'closed' | 'protocol' | 'tls',
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

/** The command a reply answers, which decides the reply codes that can answer it; any other is a protocol error. */
export type ReplyExpectation = 'greeting' | 'ehlo' | 'ordinary' | 'data' | 'starttls';
const ALLOWED: Record<ReplyExpectation, (code: number) => boolean> = {
  greeting: (c) => c === 220 || c >= 400,
  ehlo: (c) => c === 250 || c >= 400,
  ordinary: (c) => (c >= 200 && c < 300) || c >= 400,
  data: (c) => c === 354 || c >= 400,
  starttls: (c) => c === 220 || c >= 400,
};

/** True when `code` can answer the command `expect` describes. */
export function answers(expect: ReplyExpectation, code: number): boolean {
  return ALLOWED[expect](code);
}

/** The most a destination may send without ending a reply line. */
const MAX_BUFFER = 64 * 1024;

/** Turns the text a destination sends into replies; a malformed or endless line throws. */
export class ReplyReader {
  private buffer = '';
  private partial: string[] = [];

  /** Adds received text; returns the replies it completed, in order. */
  push(data: string): SmtpReply[] {
    this.buffer += data;
    if (this.buffer.length > MAX_BUFFER) throw new SmtpClientError('destination reply too long', 'protocol');
    const out: SmtpReply[] = [];
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl === -1) return out;
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const m = /^([2-5]\d\d)([ -])(.*)$/.exec(line);
      if (!m) {
        throw new SmtpClientError(
          `destination sent a malformed reply: ${JSON.stringify(line.slice(0, 80))}`,
          'protocol',
        );
      }
      this.partial.push(m[3] as string);
      if (m[2] !== ' ') continue;
      const lines = this.partial;
      this.partial = [];
      const em = /^([245]\.\d{1,3}\.\d{1,3})\s+/.exec(lines[0] ?? '');
      out.push({
        code: Number(m[1]),
        enhanced: em?.[1],
        lines: em ? lines.map((l) => l.replace(/^[245]\.\d{1,3}\.\d{1,3}\s+/, '')) : lines,
      });
    }
  }
}

/** Races `p` against a timer; on time-out calls `onTimeout` and rejects with a `timeout` error. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new SmtpClientError(`timed out after ${ms} ms`, 'timeout'));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
