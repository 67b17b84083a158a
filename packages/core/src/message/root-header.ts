import { HeaderBlock } from './header-block.js';
import type { OnLimit } from './limits.js';

// A header field's first line: a name of printable characters other than the colon, then a colon.
const HEADER_FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * The byte-level scan for the root header block. The engine finds the block itself, not the
 * splitter, so that `output()` can splice a rewritten block onto exactly the received bytes
 * that follow it.
 */
export class RootHeaderScan {
  /** Offset of the line end that closes the root header block's last field; -1 until found. */
  headerEnd = -1;
  /** True when the message has no header block: its first line is no header field. */
  headerless = false;
  /** Line end of a headerless message's first line. */
  eol: '\r\n' | '\n' = '\r\n';
  /** The parsed root header block, once resolved. */
  block: HeaderBlock | undefined;
  /** The received bytes of the root header block (up to `headerEnd`), once found. */
  bytes: Buffer | undefined;
  /** Resolves with the root header block (at the latest when the message ends). */
  readonly headers: Promise<HeaderBlock>;

  private resolveBlock!: (block: HeaderBlock) => void;
  private resolved = false;
  private firstLine: Buffer[] | undefined = [];
  private firstLineSize = 0;
  private decided = false;
  private chunks: Buffer[] = [];
  private length = 0;
  private tail: Buffer = Buffer.alloc(0);
  private sawLF = false;
  private limited = false;

  constructor(
    private readonly maxHeaderBytes: number,
    private readonly onLimit: OnLimit,
  ) {
    this.headers = new Promise<HeaderBlock>((resolve) => {
      this.resolveBlock = resolve;
    });
  }

  /**
   * Holds bytes until the first line is whole (it decides whether there is a header block);
   * returns the bytes that can be read now, or undefined while still holding.
   */
  take(chunk: Buffer): Buffer | undefined {
    if (!this.firstLine) return chunk;
    this.firstLine.push(chunk);
    this.firstLineSize += chunk.length;
    if (chunk.indexOf(0x0a) === -1 && this.firstLineSize < 998) return undefined;
    return this.flush();
  }

  /** Whatever is still held (at the end of the message), or undefined. */
  flush(): Buffer | undefined {
    if (!this.firstLine) return undefined;
    const held = Buffer.concat(this.firstLine);
    this.firstLine = undefined;
    return held.length ? held : undefined;
  }

  /** Scans bytes in order; true when this first chunk showed the message has no header block. */
  scan(chunk: Buffer): boolean {
    let headerless = false;
    if (!this.decided) {
      this.decided = true;
      headerless = this.decide(chunk);
    }
    if (this.headerEnd === -1 && !this.limited) this.find(chunk);
    return headerless;
  }

  /** The message ended: without an empty line, the whole message is its header block. */
  end(): void {
    if (this.headerEnd !== -1 || this.limited) return;
    this.headerEnd = this.length;
    this.resolve(Buffer.concat(this.chunks));
  }

  /** Resolves the header view with what was seen, if it is not resolved yet (views closing). */
  settle(): void {
    if (!this.resolved) this.resolve(Buffer.concat(this.chunks));
  }

  /** Decides, once, from the first line whether the message starts with a header block. */
  private decide(first: Buffer): boolean {
    const nl = first.indexOf(0x0a);
    const line = first.subarray(0, nl === -1 ? first.length : nl).toString('latin1');
    if (line === '' || line === '\r' || HEADER_FIELD_LINE.test(line) || line.startsWith('From '))
      return false;
    this.headerless = true;
    this.eol = line.endsWith('\r') || nl === -1 ? '\r\n' : '\n';
    this.headerEnd = 0;
    this.resolve(Buffer.alloc(0));
    return true;
  }

  private find(chunk: Buffer): void {
    const base = this.length;
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Rescan the last bytes of the previous chunk so a separator split across chunks is found.
    const win = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const winStart = base - this.tail.length;
    let end = -1;
    for (let i = 0; i < win.length; i++) {
      const c = win[i];
      if (c === 0x0a) {
        this.sawLF = true;
        if (winStart + i === 0) {
          end = 0;
          break;
        }
        const n = win[i + 1];
        if (n === 0x0a || (n === 0x0d && win[i + 2] === 0x0a)) {
          end = winStart + i + 1;
          break;
        }
      } else if (c === 0x0d) {
        if (winStart + i === 0 && win[i + 1] === 0x0a) {
          end = 0;
          break;
        }
        if (!this.sawLF && win[i + 1] === 0x0d) {
          end = winStart + i + 1; // bare CR line ends
          break;
        }
      }
    }
    if (end !== -1) {
      this.headerEnd = end;
      const all = Buffer.concat(this.chunks);
      this.chunks = [];
      this.resolve(all.subarray(0, end));
      return;
    }
    this.tail = Buffer.from(win.subarray(Math.max(0, win.length - 3)));
    if (this.length > this.maxHeaderBytes) {
      this.limited = true;
      this.onLimit('header', `header block larger than ${this.maxHeaderBytes} bytes`);
      const all = Buffer.concat(this.chunks);
      this.chunks = [];
      this.resolve(all.subarray(0, this.maxHeaderBytes));
    }
  }

  private resolve(bytes: Buffer): void {
    if (this.resolved) return;
    this.resolved = true;
    if (this.headerEnd !== -1) this.bytes = bytes;
    this.block = HeaderBlock.parse(bytes);
    this.resolveBlock(this.block);
  }
}
