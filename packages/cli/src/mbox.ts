import { PassThrough, type Readable } from 'node:stream';

const FROM = Buffer.from('From ');
const LF = 0x0a;
const GT = 0x3e;

/** True when `buf` starts with the mbox separator `From `. */
export function startsWithFrom(buf: Buffer): boolean {
  return buf.length >= 5 && buf.subarray(0, 5).equals(FROM);
}

function isBlank(line: Buffer): boolean {
  return line.length === 1 ? line[0] === LF : line.length === 2 && line[0] === 0x0d && line[1] === LF;
}

/** `>From `, `>>From `...: quoted by mboxrd (and `>From ` by mboxo); loses one `>`. */
function unquote(line: Buffer): Buffer {
  if (line[0] !== GT) return line;
  let i = 0;
  while (i < line.length && line[i] === GT) i++;
  return line.length - i >= 5 && line.subarray(i, i + 5).equals(FROM) ? line.subarray(1) : line;
}

/** A long run without a line break is passed on in pieces of this size (bounded memory). */
const MAX_PENDING = 64 * 1024;
/** Size of the chunks a message is passed on in. */
const CHUNK = 64 * 1024;

/**
 * Splits an mbox while it streams: `next()` resolves with the next message as a stream (the
 * `From ` line removed, `>From ` unquoted as mboxrd does), or `null` at the end. The bytes of a
 * message are written with backpressure while its reader consumes them; asking for the next
 * message waits until the current one has been written out. A separator is a `From ` line at
 * the start or after a blank line; that blank line belongs to the mbox, not to the message.
 */
export class MboxSplitter {
  private readonly iterator: AsyncIterator<Buffer>;
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  /** A separator line read while finishing the previous message. */
  private sawSeparator = false;
  private feeding: Promise<void> = Promise.resolve();
  private first = true;
  private failure: Error | undefined;

  constructor(source: AsyncIterable<Buffer> | Readable) {
    this.iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Reads one line (with its line break), or a piece of a long line; `null` at the end. */
  private async line(): Promise<{ bytes: Buffer; complete: boolean } | null> {
    for (;;) {
      const nl = this.buffered.indexOf(LF);
      if (nl !== -1) {
        const bytes = this.buffered.subarray(0, nl + 1);
        this.buffered = this.buffered.subarray(nl + 1);
        return { bytes, complete: true };
      }
      if (this.buffered.length >= MAX_PENDING) {
        const bytes = this.buffered;
        this.buffered = Buffer.alloc(0);
        return { bytes, complete: false };
      }
      if (this.ended) {
        if (this.buffered.length === 0) return null;
        const bytes = this.buffered;
        this.buffered = Buffer.alloc(0);
        return { bytes, complete: true };
      }
      const r = await this.iterator.next();
      if (r.done) this.ended = true;
      else {
        const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as string);
        this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      }
    }
  }

  /** Skips to the first separator (the caller checked the file starts with one). */
  private async skipSeparator(): Promise<boolean> {
    let mid = false;
    for (;;) {
      const l = await this.line();
      if (!l) return false;
      const wasMid = mid;
      mid = !l.complete;
      if (!wasMid && startsWithFrom(l.bytes)) {
        // Drop the rest of an overlong separator line.
        while (mid) {
          const rest = await this.line();
          if (!rest) return false;
          mid = !rest.complete;
        }
        return true;
      }
    }
  }

  /** The next message, or null when the mbox has no more. */
  async next(): Promise<Readable | null> {
    await this.feeding;
    if (this.failure) throw this.failure;
    if (this.first) {
      this.first = false;
      if (!(await this.skipSeparator())) return null;
    } else if (!this.sawSeparator) {
      return null;
    }
    this.sawSeparator = false;
    const out = new PassThrough();
    this.feeding = this.feed(out).catch((err: Error) => {
      this.failure = err;
      out.destroy(err);
    });
    return out;
  }

  private async feed(out: PassThrough): Promise<void> {
    // Lines are gathered into chunks of about 64 KiB: one write per line would make the
    // reader (the engine, or a worker thread's feed) pay per line.
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = async () => {
      if (batched === 0) return;
      const b = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
      batch = [];
      batched = 0;
      if (out.destroyed) return;
      if (!out.write(b)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.on('drain', done);
          out.on('close', done);
        });
      }
    };
    const write = async (b: Buffer) => {
      if (out.destroyed) return;
      batch.push(b);
      batched += b.length;
      if (batched >= CHUNK) await flush();
    };
    let pendingBlank: Buffer | undefined;
    let atStart = true;
    let mid = false;
    for (;;) {
      const l = await this.line();
      if (!l) break;
      if (mid) {
        // The rest of a long line: content as it is.
        await write(l.bytes);
        mid = !l.complete;
        continue;
      }
      if (!l.complete) {
        if (pendingBlank) await write(pendingBlank);
        pendingBlank = undefined;
        await write(unquote(l.bytes));
        mid = true;
        atStart = false;
        continue;
      }
      if ((pendingBlank || atStart) && startsWithFrom(l.bytes)) {
        if (atStart) {
          // An empty message between two separators: skip the separator and go on.
          continue;
        }
        this.sawSeparator = true;
        break;
      }
      atStart = false;
      if (isBlank(l.bytes)) {
        if (pendingBlank) await write(pendingBlank);
        pendingBlank = l.bytes;
        continue;
      }
      if (pendingBlank) await write(pendingBlank);
      pendingBlank = undefined;
      await write(unquote(l.bytes));
    }
    await flush();
    out.end();
  }
}
