import { PassThrough, Readable, type Transform, Writable } from 'node:stream';

/**
 * A view stream the pass pushes into. A plain Readable (not a PassThrough): the pass pushes,
 * and when the reader is behind it waits for the reader's next read request. One stream hop
 * less per chunk than a Transform.
 */
export class FeedStream extends Readable {
  private wake: (() => void) | undefined;

  constructor() {
    super({ highWaterMark: 64 * 1024 });
    this.on('close', () => this.release());
  }

  override _read(): void {
    this.release();
  }

  private release(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Pushes a chunk; true when the reader can take more now. */
  feed(chunk: Buffer): boolean {
    if (this.destroyed) return true;
    return this.push(chunk);
  }

  /** Ends the stream (idempotent). */
  finish(): void {
    if (!this.destroyed && !this.readableEnded) this.push(null);
  }

  /** True when the reader is behind and the pass should wait. */
  get behind(): boolean {
    return !this.destroyed && this.readableLength >= this.readableHighWaterMark;
  }

  /** Resolves at the reader's next read request, or when the stream goes away. */
  whenReady(): Promise<void> {
    if (!this.behind) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
  }
}

import { Splitter } from '@zone-eu/mailsplit';
import { MefError } from '../errors.js';
import type { ExtractedText, MessageView, MimePart, PartSelector } from '../plugin.js';
import { HeaderBlock } from './header-block.js';
import { type ExtraPart, Readings } from './readings.js';
import type { MessageStore } from './store.js';
import { decodeText, htmlToText } from './text.js';

/** The fields of a mailsplit node this pass reads. */
interface MimeNode {
  type: 'node';
  parentNode: MimeNode | false;
  multipart: string | false;
  encoding: string | false;
  headers: { build(): Buffer } | false;
  contentType: string | false;
  charset: string | false;
  disposition: string | false;
  filename: string | false;
  partNr: (number | string)[] | false;
  rfc822: boolean;
  /** true when the splitter opened this message/rfc822 node as a nested message; false when it is a leaf. */
  messageNode?: boolean;
  config: { ignoreEmbedded?: boolean };
  getDecoder(): Transform;
}

type SplitterChunk = MimeNode | { type: 'data' | 'body'; node: MimeNode; value: Buffer };

/** The limits of one message. Hitting one records a symbol and the configured disposition. */
export interface Limits {
  /** Largest message in bytes. Default 64 MiB. */
  readonly maxMessageBytes: number;
  /** Largest header block of the message or of one MIME part. Default 256 KiB. */
  readonly maxHeaderBytes: number;
  /** Deepest MIME nesting offered to stages. Default 32. */
  readonly maxDepth: number;
  /** Most MIME nodes offered to stages. Default 2,000. */
  readonly maxParts: number;
  /** Most bytes of text extracted for the text view. Default 1 MiB. */
  readonly maxTextBytes: number;
}

/** The limits a message can hit; `parse` is a MIME structure the splitter could not read. */
export type LimitName = 'size' | 'header' | 'depth' | 'parts' | 'text' | 'parse';

// A header field's first line: a name of printable characters other than the colon, then a colon.
const HEADER_FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

export const defaultLimits: Limits = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 256 * 1024,
  maxDepth: 32,
  maxParts: 2000,
  maxTextBytes: 1024 * 1024,
});

/** A stage's place in the pass: its streams, its pending handlers, its stall timeout. */
export class StageSlot {
  detached = false;
  readonly streams = new Set<FeedStream>();
  readonly pending: Promise<void>[] = [];

  constructor(
    readonly name: string,
    readonly stallMs: number,
    private readonly onFailure: (slot: StageSlot, kind: 'timeout' | 'exception', err: unknown) => void,
  ) {}

  /** Takes the stage out of the pass: its streams are destroyed and the pass stops waiting for it. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    for (const s of this.streams) s.destroy();
    this.streams.clear();
  }

  /** Resolves once every part handler registered so far (and while waiting) has settled. */
  async settled(): Promise<void> {
    let seen = 0;
    while (seen < this.pending.length) {
      const batch = this.pending.slice(seen);
      seen = this.pending.length;
      await Promise.all(batch);
    }
  }

  fail(kind: 'timeout' | 'exception', err: unknown): void {
    if (this.detached) return;
    this.onFailure(this, kind, err);
    this.detach();
  }
}

interface PartSub {
  slot: StageSlot;
  selector: PartSelector;
  handler: (part: MimePart) => void | Promise<void>;
}

interface Out {
  sub: PartSub;
  stream: FeedStream;
  part: PartImpl;
  done: boolean;
}

class PartImpl implements MimePart {
  bytes = 0;
  truncated = false;
  skipped = false;
  constructor(
    readonly partId: string,
    readonly depth: number,
    readonly contentType: string,
    readonly charset: string | undefined,
    readonly filename: string | undefined,
    readonly disposition: string | undefined,
    readonly transferEncoding: string | undefined,
    readonly headers: HeaderBlock,
    readonly content: FeedStream,
  ) {}
  skip(): void {
    this.skipped = true;
    this.content.resume();
  }
}

interface Leaf {
  node: MimeNode;
  decoder: Transform;
  outs: Out[];
  text: { chunks: Buffer[]; html: boolean; charset: string | undefined } | undefined;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function matchType(rule: string | RegExp, type: string): boolean {
  if (rule instanceof RegExp) return rule.test(type);
  const r = rule.toLowerCase();
  if (r === '*' || r === '*/*') return true;
  if (r.endsWith('/*')) return type.startsWith(r.slice(0, -1));
  return type === r;
}

function isAttachment(node: MimeNode): boolean {
  return node.disposition === 'attachment' || Boolean(node.filename);
}

function selects(sel: PartSelector, node: MimeNode): boolean {
  const type = (node.contentType || 'text/plain').toLowerCase();
  if (sel.contentType !== undefined) {
    const rules = Array.isArray(sel.contentType) ? sel.contentType : [sel.contentType];
    if (!rules.some((r) => matchType(r as string | RegExp, type))) return false;
  }
  if (sel.filename !== undefined && !(node.filename && sel.filename.test(node.filename))) return false;
  if (sel.attachment !== undefined && isAttachment(node) !== sel.attachment) return false;
  return true;
}

function depthOf(node: MimeNode): number {
  let d = 0;
  let n: MimeNode | false = node.parentNode;
  while (n) {
    d++;
    n = n.parentNode;
  }
  return d;
}

/**
 * Waits until a stream can take more, the stream goes away, or the stage has blocked the
 * pass for longer than its timeout (then the stage is taken out and the pass goes on).
 */
function waitDrain(slot: StageSlot, stream: FeedStream): Promise<void> {
  if (!stream.behind || slot.detached) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      slot.fail(
        'timeout',
        new MefError(
          'MEF_CORE_TIMEOUT',
          `stage ${slot.name} blocked the message pass for more than ${slot.stallMs} ms`,
        ),
      );
      done();
    }, slot.stallMs);
    stream.whenReady().then(done);
  });
}

function waitWritable(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export interface PassOptions {
  limits: Limits;
  onLimit: (name: LimitName, detail: string) => void;
  /** Told when the message has no header block (its first line is no header field). */
  onHeaderless?: () => void;
  store?: MessageStore | undefined;
}

/**
 * The one pass over a message. Bytes go in once (`write`, then `end`); every view a stage
 * asked for is fed from here with backpressure. The splitter runs only when some stage wants
 * MIME parts or text; a part no stage selected is never decoded.
 */
export class MessagePass {
  private started = false;
  private finished = false;
  size = 0;
  private readonly rawSubs: { slot: StageSlot; stream: FeedStream }[] = [];
  private readonly partSubs: PartSub[] = [];
  private wantText = false;
  private readonly headerWaiters = deferred<HeaderBlock>();
  private headerResolved = false;
  private readonly textResult = deferred<ExtractedText>();
  private readonly endResult = deferred<{ size: number }>();

  // Root header scan (our own, so output rewriting uses exactly the received bytes).
  private headBuf: Buffer[] = [];
  private headLen = 0;
  /** Offset of the line end that closes the root header block's last field; -1 until found. */
  headerEnd = -1;
  private headerLimited = false;

  private splitter: Transform | undefined;
  private dispatcher: Writable | undefined;
  private splitterDead = false;
  private splitterDone: Promise<void> | undefined;
  private nodes = 0;
  private leaf: Leaf | undefined;
  private partsLimited = false;
  private depthLimited = false;
  private textBytes = 0;
  private textLimited = false;
  private readonly texts: string[] = [];
  private readonly htmls: string[] = [];
  private sizeLimited = false;
  private rootHeaders: HeaderBlock | undefined;

  /** The other readings of an ambiguous message (readings.ts). */
  private readonly readings: Readings;

  constructor(private readonly options: PassOptions) {
    this.readings = new Readings(options.limits);
  }

  /** The view handed to one stage. */
  view(slot: StageSlot): MessageView {
    const late = (what: string) => {
      if (this.started)
        throw new MefError(
          'MEF_CORE_VIEW_LATE',
          `stage ${slot.name} asked for ${what} after the message started to flow; ask before the first await`,
        );
    };
    const pass = this;
    return this.readings.link({
      headers: () => this.headerWaiters.promise,
      parts: (selector, handler) => {
        late('parts()');
        if (typeof handler !== 'function')
          throw new TypeError('parts(selector, handler): handler must be a function');
        this.partSubs.push({ slot, selector: selector ?? {}, handler });
      },
      raw: () => {
        late('raw()');
        const stream = new FeedStream();
        slot.streams.add(stream);
        this.rawSubs.push({ slot, stream });
        return stream as Readable;
      },
      text: () => {
        late('text()');
        this.wantText = true;
        return this.textResult.promise;
      },
      get size() {
        return pass.size;
      },
      ended: () =>
        this.endResult.promise.then(async (r) => {
          await slot.settled();
          return r;
        }),
    });
  }

  /** Locks the views and prepares the splitter if any stage needs it. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.readings.active = this.partSubs.length > 0;
    if (this.partSubs.length || this.wantText) {
      const { limits } = this.options;
      this.splitter = new Splitter({
        maxHeadSize: limits.maxHeaderBytes,
        // Open forwarded messages unless they are marked as attachments.
        defaultInlineEmbedded: true,
        // Our own part limit answers first with a symbol; this only bounds the splitter's memory.
        maxChildNodes: Math.max(limits.maxParts * 4, 10_000) + 10,
      }) as unknown as Transform;
      this.dispatcher = new Writable({
        objectMode: true,
        highWaterMark: 16,
        write: (obj: SplitterChunk, _enc, cb) => {
          let pending: Promise<void> | undefined;
          try {
            pending = this.dispatch(obj);
          } catch (err) {
            cb(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          if (!pending) cb();
          else
            pending.then(
              () => cb(),
              (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
            );
        },
      });
      const onError = (err: Error & { code?: string }) => this.splitterFailed(err);
      this.splitter.on('error', onError);
      this.dispatcher.on('error', onError);
      this.splitterDone = new Promise<void>((resolve) => {
        this.dispatcher!.on('finish', resolve);
        this.dispatcher!.on('close', resolve);
        this.splitter!.on('close', () => {
          if (this.splitterDead) resolve();
        });
        this.splitterResolve = resolve;
      });
      this.splitter.pipe(this.dispatcher);
    }
  }

  private splitterResolve: (() => void) | undefined;

  private splitterFailed(err: Error & { code?: string }): void {
    if (this.splitterDead) return;
    this.splitterDead = true;
    const isHeader = err.code === 'EMAXLEN' && /header/i.test(err.message);
    const isParts = err.code === 'EMAXLEN' && /child nodes/i.test(err.message);
    this.options.onLimit(isHeader ? 'header' : isParts ? 'parts' : 'parse', err.message);
    this.splitter?.unpipe();
    this.splitter?.destroy();
    this.dispatcher?.destroy();
    this.closeLeafNow();
    this.splitterResolve?.();
  }

  /** Feeds bytes; resolves when the pass can take more. */
  async write(chunk: Buffer): Promise<void> {
    if (this.finished) throw new MefError('MEF_CORE_PHASE_ORDER', 'write after end of message');
    if (!this.started) this.start();
    this.size += chunk.length;
    if (this.sizeLimited) return;
    if (this.size > this.options.limits.maxMessageBytes) {
      this.sizeLimited = true;
      this.options.onLimit('size', `message larger than ${this.options.limits.maxMessageBytes} bytes`);
      // Views end here; the rest of the input is read and dropped so the host's stream completes.
      await this.closeViews();
      return;
    }
    if (this.options.store) await this.options.store.write(chunk);
    this.readings.keep(chunk);
    if (this.rawSubs.length) await this.fanoutRaw(chunk);
    if (this.firstLine) {
      // Until the first line is whole, nothing is parsed: it decides whether there is a header block.
      this.firstLine.push(chunk);
      this.firstLineSize += chunk.length;
      if (chunk.indexOf(0x0a) === -1 && this.firstLineSize < 998) return;
      const held = Buffer.concat(this.firstLine);
      this.firstLine = undefined;
      await this.parse(held);
      return;
    }
    await this.parse(chunk);
  }

  /** True when the message has no header block: its first line is no header field. */
  headerless = false;
  /** Line end of a headerless message's first line. */
  eol: '\r\n' | '\n' = '\r\n';
  private firstLine: Buffer[] | undefined = [];
  private firstLineSize = 0;

  /** Decides, once, from the first line whether the message starts with a header block. */
  private decideHead(first: Buffer): void {
    const nl = first.indexOf(0x0a);
    const line = first.subarray(0, nl === -1 ? first.length : nl).toString('latin1');
    if (line === '' || line === '\r' || HEADER_FIELD_LINE.test(line) || line.startsWith('From ')) return;
    this.headerless = true;
    this.eol = line.endsWith('\r') || nl === -1 ? '\r\n' : '\n';
    this.headerEnd = 0;
    this.resolveHeaders(Buffer.alloc(0));
    this.options.onHeaderless?.();
    // The splitter reads everything as body, as a mail client shows such a message.
    if (this.splitter && !this.splitterDead) this.splitter.write(Buffer.from('\r\n'));
  }

  private async parse(chunk: Buffer): Promise<void> {
    if (!this.headDecided) {
      this.headDecided = true;
      this.decideHead(chunk);
    }
    if (this.headerEnd === -1 && !this.headerLimited) this.scanHeader(chunk);
    if (this.splitter && !this.splitterDead) {
      if (!this.splitter.write(chunk) && !this.splitterDead) await waitWritable(this.splitter);
    }
  }

  private headDecided = false;

  /** Ends the message; resolves when every view has been fed to the end. */
  async end(): Promise<void> {
    if (this.finished) return;
    if (!this.started) this.start();
    this.finished = true;
    if (this.options.store) await this.options.store.end();
    if (this.firstLine) {
      const held = Buffer.concat(this.firstLine);
      this.firstLine = undefined;
      if (held.length) await this.parse(held);
    }
    if (this.headerEnd === -1 && !this.headerLimited) {
      // No empty line: the whole message is its header block.
      this.headerEnd = this.headLen;
      this.resolveHeaders(Buffer.concat(this.headBuf));
    }
    await this.closeViews();
    // Over the size limit the message was not kept whole: no other reading, but the report
    // still resolves (a stage awaiting it must not wait for its timeout).
    if (this.sizeLimited) this.readings.cancel();
    else await this.readings.finish((p) => this.offerExtra(p));
    this.endResult.resolve({ size: this.size });
  }

  private async closeViews(): Promise<void> {
    if (this.splitter && !this.splitterDead) {
      this.splitter.end();
      await this.splitterDone;
    }
    await this.closeLeaf();
    for (const { stream } of this.rawSubs) stream.finish();
    if (!this.headerResolved) this.resolveHeaders(Buffer.concat(this.headBuf));
    this.resolveText();
  }

  /** Source failed: every view ends now, incomplete; stages see an error on their streams. */
  abort(err: Error): void {
    this.finished = true;
    this.splitterDead = true;
    this.splitter?.destroy();
    this.dispatcher?.destroy();
    this.closeLeafNow();
    this.readings.cancel();
    for (const { stream } of this.rawSubs) stream.destroy(err);
    if (!this.headerResolved) this.resolveHeaders(Buffer.concat(this.headBuf));
    this.resolveText();
    this.endResult.resolve({ size: this.size });
  }

  /** The received root header block bytes (up to `headerEnd`). */
  headerBytes(): Buffer | undefined {
    return this.rootBytes;
  }

  private rootBytes: Buffer | undefined;

  private headTail: Buffer = Buffer.alloc(0);
  private sawLF = false;

  private scanHeader(chunk: Buffer): void {
    const base = this.headLen;
    this.headBuf.push(chunk);
    this.headLen += chunk.length;
    // Rescan the last bytes of the previous chunk so a separator split across chunks is found.
    const win = this.headTail.length ? Buffer.concat([this.headTail, chunk]) : chunk;
    const winStart = base - this.headTail.length;
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
      const all = Buffer.concat(this.headBuf);
      this.headBuf = [];
      this.resolveHeaders(all.subarray(0, end));
      return;
    }
    this.headTail = Buffer.from(win.subarray(Math.max(0, win.length - 3)));
    if (this.headLen > this.options.limits.maxHeaderBytes) {
      this.headerLimited = true;
      this.options.onLimit('header', `header block larger than ${this.options.limits.maxHeaderBytes} bytes`);
      const all = Buffer.concat(this.headBuf);
      this.headBuf = [];
      this.resolveHeaders(all.subarray(0, this.options.limits.maxHeaderBytes));
    }
  }

  private resolveHeaders(bytes: Buffer): void {
    if (this.headerResolved) return;
    this.headerResolved = true;
    if (this.headerEnd !== -1) this.rootBytes = bytes;
    this.rootHeaders = HeaderBlock.parse(bytes);
    this.headerWaiters.resolve(this.rootHeaders);
  }

  private async fanoutRaw(chunk: Buffer): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const { slot, stream } of this.rawSubs) {
      if (slot.detached || stream.destroyed) continue;
      if (!stream.feed(chunk)) waits.push(waitDrain(slot, stream));
    }
    if (waits.length) await Promise.all(waits);
  }

  /** Handles one splitter object; returns a promise only when it has to wait (the hot path is sync). */
  private dispatch(obj: SplitterChunk): Promise<void> | undefined {
    if (this.splitterDead) return undefined;
    if (obj.type === 'node') {
      if (!this.leaf) {
        this.readings.node(obj);
        this.openNode(obj);
        return undefined;
      }
      return this.closeLeaf().then(() => {
        this.readings.node(obj);
        this.openNode(obj);
      });
    }
    if (obj.node === this.readings.sniffing && obj.type === 'body') this.readings.body(obj.value);
    const leaf = this.leaf;
    if (!leaf || obj.node !== leaf.node) {
      if (leaf && obj.type === 'data') return this.closeLeaf();
      return undefined;
    }
    if (obj.type === 'body') {
      // A sync decoder holds its output until read: read it now, then it takes more.
      leaf.decoder.write(obj.value);
      return this.pump(leaf);
    }
    return undefined;
  }

  private openNode(node: MimeNode): void {
    this.nodes++;
    if (this.nodes > this.options.limits.maxParts) {
      if (!this.partsLimited) {
        this.partsLimited = true;
        this.options.onLimit('parts', `more than ${this.options.limits.maxParts} MIME parts`);
      }
      return;
    }
    const depth = depthOf(node);
    if (depth > this.options.limits.maxDepth) {
      if (!this.depthLimited) {
        this.depthLimited = true;
        this.options.onLimit('depth', `MIME nesting deeper than ${this.options.limits.maxDepth}`);
      }
      return;
    }
    // A message/rfc822 node the splitter opened is a container (its parts follow); one it did
    // not open (an attachment, or a base64-encoded one) is a leaf whose content is the message.
    if (node.multipart || node.messageNode === true) return;
    const type = (node.contentType || 'text/plain').toLowerCase();
    const matched = this.partSubs.filter((s) => !s.slot.detached && selects(s.selector, node));
    const textPart =
      this.wantText &&
      !this.textLimited &&
      (type === 'text/plain' || type === 'text/html') &&
      node.disposition !== 'attachment';
    if (!matched.length && !textPart) return;

    const decoder = node.getDecoder() as Transform;
    decoder.on('error', () => {
      /* a broken encoding ends the part; the rest of the message goes on */
    });
    const leaf: Leaf = {
      node,
      decoder,
      outs: [],
      text: textPart
        ? { chunks: [], html: type === 'text/html', charset: node.charset || undefined }
        : undefined,
    };
    if (matched.length) {
      const headers = node.headers ? HeaderBlock.parse(node.headers.build()) : new HeaderBlock([], 0);
      const partId =
        Array.isArray(node.partNr) && node.partNr.length ? node.partNr.join('.') : String(this.nodes);
      for (const sub of matched) {
        const stream = new FeedStream();
        sub.slot.streams.add(stream);
        const part = new PartImpl(
          partId,
          depth,
          type,
          node.charset || undefined,
          node.filename || undefined,
          node.disposition || undefined,
          node.encoding || undefined,
          headers,
          stream,
        );
        const out: Out = { sub, stream, part, done: false };
        leaf.outs.push(out);
        let result: void | Promise<void>;
        try {
          result = sub.handler(part);
        } catch (err) {
          sub.slot.fail('exception', err);
          continue;
        }
        const p = Promise.resolve(result).then(
          // A handler that settled without reading (or skipping) its part is done with it:
          // skip the rest rather than stall the pass until the stage timeout.
          () => {
            if (
              !stream.readableEnded &&
              stream.listenerCount('data') + stream.listenerCount('readable') === 0
            ) {
              part.skip();
            }
          },
          (err: unknown) => sub.slot.fail('exception', err),
        );
        sub.slot.pending.push(p);
      }
    }
    this.leaf = leaf;
  }

  /** Reads what the decoder has and hands it on, waiting for slow readers. */
  /** Reads what the decoder has and hands it on; returns a promise only when a reader is slow. */
  private pump(leaf: Leaf): Promise<void> | undefined {
    for (;;) {
      const data = leaf.decoder.read() as Buffer | null;
      if (data === null) return undefined;
      const wait = this.deliver(leaf, data);
      if (wait) return wait.then(() => this.pump(leaf));
    }
  }

  private deliver(leaf: Leaf, data: Buffer): Promise<void> | undefined {
    if (leaf.text) this.collectText(leaf, data);
    if (leaf.node === this.readings.watched) this.readings.decoded(leaf.node, data);
    let waits: Promise<void>[] | undefined;
    for (const out of leaf.outs) {
      if (out.done) continue;
      const { stream, part, sub } = out;
      if (sub.slot.detached || stream.destroyed) {
        out.done = true;
        continue;
      }
      let piece = data;
      const max = sub.selector.maxBytes;
      if (max !== undefined && part.bytes + piece.length > max) {
        piece = piece.subarray(0, Math.max(0, max - part.bytes));
        part.truncated = true;
      }
      part.bytes += piece.length;
      const ok = piece.length ? stream.feed(piece) : true;
      if (part.truncated) {
        out.done = true;
        stream.finish();
        this.release(out);
        continue;
      }
      if (!ok) {
        waits ??= [];
        waits.push(waitDrain(sub.slot, stream));
      }
    }
    if (!waits) return undefined;
    return Promise.all(waits).then(() => undefined);
  }

  private release(out: Out): void {
    out.sub.slot.streams.delete(out.stream);
  }

  private collectText(leaf: Leaf, data: Buffer): void {
    const t = leaf.text!;
    const room = this.options.limits.maxTextBytes - this.textBytes;
    if (room <= 0) {
      this.limitText();
      return;
    }
    const piece = data.length > room ? data.subarray(0, room) : data;
    t.chunks.push(piece);
    this.textBytes += piece.length;
    if (data.length > room) this.limitText();
  }

  private limitText(): void {
    if (this.textLimited) return;
    this.textLimited = true;
    this.options.onLimit('text', `more than ${this.options.limits.maxTextBytes} bytes of text`);
  }

  private async closeLeaf(): Promise<void> {
    const leaf = this.leaf;
    if (!leaf) return;
    this.leaf = undefined;
    const { decoder } = leaf;
    if (!decoder.destroyed) {
      await new Promise<void>((resolve) => {
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          resolve();
        };
        decoder.once('finish', done);
        decoder.once('error', done);
        decoder.once('close', done);
        decoder.end();
        // A decoder with nothing pending finishes at once; read what the flush produced.
        setImmediate(() => {
          if (decoder.writableFinished) done();
        });
      });
      await this.pump(leaf);
    }
    this.finishLeaf(leaf);
  }

  private closeLeafNow(): void {
    const leaf = this.leaf;
    if (!leaf) return;
    this.leaf = undefined;
    leaf.decoder.destroy();
    this.finishLeaf(leaf);
  }

  private finishLeaf(leaf: Leaf): void {
    this.readings.leafEnd(leaf.node);
    for (const out of leaf.outs) {
      if (!out.done) {
        out.done = true;
        out.stream.finish();
        this.release(out);
      }
    }
    if (leaf.text?.chunks.length) {
      const s = decodeText(Buffer.concat(leaf.text.chunks), leaf.text.charset);
      (leaf.text.html ? this.htmls : this.texts).push(s);
    }
  }

  /** Offers a part of another reading to the stages that select it, as the splitter's parts are offered. */
  private async offerExtra(p: ExtraPart): Promise<void> {
    const node = {
      contentType: p.contentType,
      filename: p.filename ?? false,
      disposition: p.disposition ?? false,
    } as MimeNode;
    const subs = this.partSubs.filter((s) => !s.slot.detached && selects(s.selector, node));
    if (!subs.length) return;
    const headers = HeaderBlock.parse(p.headers);
    const leaf: Leaf = { node, decoder: new PassThrough(), outs: [], text: undefined };
    for (const sub of subs) {
      const stream = new FeedStream();
      sub.slot.streams.add(stream);
      const part = new PartImpl(
        p.partId,
        p.depth,
        p.contentType,
        p.charset,
        p.filename,
        p.disposition,
        p.transferEncoding,
        headers,
        stream,
      );
      leaf.outs.push({ sub, stream, part, done: false });
      try {
        const result = sub.handler(part);
        sub.slot.pending.push(
          Promise.resolve(result).catch((err: unknown) => sub.slot.fail('exception', err)),
        );
      } catch (err) {
        sub.slot.fail('exception', err);
      }
    }
    for (let at = 0; at < p.content.length; at += 64 * 1024) {
      await this.deliver(leaf, p.content.subarray(at, at + 64 * 1024));
    }
    this.finishLeaf(leaf);
  }

  private resolveText(): void {
    if (!this.wantText) {
      this.textResult.resolve({ text: '', html: '', subject: '', truncated: false });
      return;
    }
    const html = this.htmls.join('\n');
    const fromHtml = this.htmls.map((h) => htmlToText(h)).join('\n');
    const text = [this.texts.join('\n'), fromHtml].filter(Boolean).join('\n');
    this.textResult.resolve({
      text,
      html,
      subject: this.rootHeaders?.getDecoded('subject') ?? '',
      truncated: this.textLimited,
    });
  }
}
