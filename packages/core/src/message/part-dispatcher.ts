import { PassThrough, type Transform, Writable } from 'node:stream';
import { Splitter } from '@zone-eu/mailsplit';
import { HeaderBlock } from './header-block.js';
import type { Limits, OnLimit } from './limits.js';
import { depthOf, type MimeNode, type SplitterChunk, selects } from './mime-node.js';
import { endFeed, feedParts, offerPart, type PartFeed, type PartRequest } from './part-offer.js';
import type { ExtraPart, LeafWatch, Readings } from './readings.js';
import type { PartText, TextCollector } from './text-collector.js';

/** The leaf part being decoded now, and whom it feeds. */
interface OpenPart {
  node: MimeNode;
  /** Undefined for a part whose body is its content (no transfer encoding to undo). */
  decoder: Transform | undefined;
  feeds: PartFeed[];
  text: PartText | undefined;
  watch: LeafWatch | undefined;
  /** The splitter of an attached message, fed with this leaf's decoded bytes. */
  inner: PartDispatcher | undefined;
}

/** Counts shared by the splitter of a message and those of its attached messages. */
interface PartCount {
  nodes: number;
  partsLimited: boolean;
  depthLimited: boolean;
}

/** Where an attached message sits in the message that carries it. */
interface Nesting {
  /** Depth of the attached message's own root. */
  depth: number;
  /** Part id of the message/rfc822 leaf: the inner part ids follow it. */
  partId: string;
  /** False when the attached message is an attachment: a reader does not show its text. */
  text: boolean;
}

export interface PartDispatcherOptions {
  limits: Limits;
  onLimit: OnLimit;
  /** The stages' `parts()` requests (the list is complete when the dispatcher is made). */
  requests: readonly PartRequest[];
  text: TextCollector;
  readings: Readings;
  /** Set for the splitter of an attached message. */
  nesting?: Nesting;
  count?: PartCount;
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

/**
 * Runs the mailsplit Splitter over the message (only when a stage wants parts or text) and
 * dispatches what it emits: each leaf part is decoded only when some selector matched it (or
 * the text view wants it), then fed to the matching stages and the text collector.
 */
export class PartDispatcher {
  private readonly splitter: Transform;
  private readonly sink: Writable;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;
  private dead = false;
  private ended = false;
  private readonly count: PartCount;
  private open: OpenPart | undefined;

  constructor(private readonly options: PartDispatcherOptions) {
    const { limits } = options;
    this.count = options.count ?? { nodes: 0, partsLimited: false, depthLimited: false };
    this.splitter = new Splitter({
      maxHeadSize: limits.maxHeaderBytes,
      // Open forwarded messages unless they are marked as attachments.
      defaultInlineEmbedded: true,
      // Our own part limit answers first with a symbol; this only bounds the splitter's memory.
      maxChildNodes: Math.max(limits.maxParts * 4, 10_000) + 10,
    }) as unknown as Transform;
    this.sink = new Writable({
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
    const onError = (err: Error & { code?: string }) => this.failed(err);
    this.splitter.on('error', onError);
    this.sink.on('error', onError);
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
      this.sink.on('finish', resolve);
      this.sink.on('close', resolve);
      this.splitter.on('close', () => {
        if (this.dead) resolve();
      });
    });
    this.splitter.pipe(this.sink);
  }

  /** Writes message bytes into the splitter; returns a promise when it has to wait before taking more. */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.dead || this.ended) return undefined;
    if (!this.splitter.write(chunk) && !this.dead) return waitWritable(this.splitter);
    return undefined;
  }

  /** Writes bytes without waiting (a few bytes the pass adds itself). */
  writeNow(chunk: Buffer): void {
    if (!this.dead && !this.ended) this.splitter.write(chunk);
  }

  /** Ends the splitter's input; resolves when every part has been fed to the end. */
  async end(): Promise<void> {
    if (!this.dead && !this.ended) {
      this.ended = true;
      this.splitter.end();
      await this.done;
    }
    await this.closeOpen();
  }

  /** The source failed: the splitter and the open part go now. */
  abort(): void {
    this.dead = true;
    this.splitter.destroy();
    this.sink.destroy();
    this.closeOpenNow();
  }

  private failed(err: Error & { code?: string }): void {
    if (this.dead) return;
    this.dead = true;
    const isHeader = err.code === 'EMAXLEN' && /header/i.test(err.message);
    const isParts = err.code === 'EMAXLEN' && /child nodes/i.test(err.message);
    this.options.onLimit(isHeader ? 'header' : isParts ? 'parts' : 'parse', err.message);
    this.splitter.unpipe();
    this.splitter.destroy();
    this.sink.destroy();
    this.closeOpenNow();
    this.resolveDone();
  }

  /** Handles one splitter object; returns a promise only when it has to wait (the hot path is sync). */
  private dispatch(obj: SplitterChunk): Promise<void> | undefined {
    if (this.dead) return undefined;
    const { readings } = this.options;
    if (obj.type === 'node') {
      if (!this.open) {
        readings.node(obj);
        this.openNode(obj);
        return undefined;
      }
      return this.closeOpen().then(() => {
        readings.node(obj);
        this.openNode(obj);
      });
    }
    if (obj.node === readings.sniffing && obj.type === 'body') readings.body(obj.value);
    const open = this.open;
    if (!open || obj.node !== open.node) {
      if (open && obj.type === 'data') return this.closeOpen();
      return undefined;
    }
    if (obj.type === 'body') {
      const { decoder } = open;
      // No transfer encoding: the body bytes are the content (mailsplit's decoder would be a
      // PassThrough handing on the same buffers, and no empty one).
      if (!decoder) return obj.value.length ? this.deliver(open, obj.value) : undefined;
      // A sync decoder holds its output until read: read it now, then it takes more.
      decoder.write(obj.value);
      return this.pump(open);
    }
    return undefined;
  }

  private limitDepth(): void {
    if (this.count.depthLimited) return;
    this.count.depthLimited = true;
    this.options.onLimit('depth', `MIME nesting deeper than ${this.options.limits.maxDepth}`);
  }

  private openNode(node: MimeNode): void {
    const { limits, onLimit, nesting } = this.options;
    const count = this.count;
    count.nodes++;
    if (count.nodes > limits.maxParts) {
      if (!count.partsLimited) {
        count.partsLimited = true;
        onLimit('parts', `more than ${limits.maxParts} MIME parts`);
      }
      return;
    }
    const depth = (nesting?.depth ?? 0) + depthOf(node);
    if (depth > limits.maxDepth) {
      this.limitDepth();
      return;
    }
    // A message/rfc822 node the splitter opened is a container (its parts follow); one it did
    // not open (an attachment, or a base64-encoded one) is a leaf whose content is the message:
    // its decoded bytes go to a splitter of its own, so one parser reads every level.
    if (node.multipart || node.messageNode === true) return;
    const type = (node.contentType || 'text/plain').toLowerCase();
    const nr = Array.isArray(node.partNr) && node.partNr.length ? node.partNr.join('.') : String(count.nodes);
    const partId = nesting ? `${nesting.partId}.${nr}` : nr;
    let inner: PartDispatcher | undefined;
    const innerText = (nesting?.text ?? true) && node.disposition !== 'attachment';
    // Opened when a stage wants parts, or the text view wants the text a reader shows inline.
    if (
      type === 'message/rfc822' &&
      (this.options.requests.length || (innerText && this.options.text.wanted))
    ) {
      if (depth + 1 > limits.maxDepth) this.limitDepth();
      else
        inner = new PartDispatcher({
          ...this.options,
          nesting: { depth: depth + 1, partId, text: innerText },
          count,
        });
    }
    const matched = this.options.requests.filter((r) => !r.reader.detached && selects(r.selector, node));
    const text =
      nesting?.text === false ? undefined : this.options.text.partText(type, node.disposition, node.charset);
    if (!matched.length && !text && !inner) return;

    // mailsplit decodes base64 and quoted-printable; any other encoding it passes as it is.
    const decoder =
      node.headers && node.encoding !== 'base64' && node.encoding !== 'quoted-printable'
        ? undefined
        : (node.getDecoder() as Transform);
    decoder?.on('error', () => {
      /* a broken encoding ends the part; the rest of the message goes on */
    });
    const watch = this.options.readings.leafOpen(node);
    const feeds = matched.length
      ? offerPart(matched, {
          partId,
          depth,
          contentType: type,
          charset: node.charset || undefined,
          filename: node.filename || undefined,
          disposition: node.disposition || undefined,
          transferEncoding: node.encoding || undefined,
          headers: node.headers ? HeaderBlock.parse(node.headers.build()) : new HeaderBlock([], 0),
        })
      : [];
    this.open = { node, decoder, feeds, text, watch, inner };
  }

  /** Reads what the decoder has and hands it on; returns a promise only when a reader is slow. */
  private pump(open: OpenPart): Promise<void> | undefined {
    const { decoder } = open;
    if (!decoder) return undefined;
    for (;;) {
      const data = decoder.read() as Buffer | null;
      if (data === null) return undefined;
      const wait = this.deliver(open, data);
      if (wait) return wait.then(() => this.pump(open));
    }
  }

  private deliver(open: OpenPart, data: Buffer): Promise<void> | undefined {
    if (open.text) this.options.text.collect(open.text, data);
    if (open.watch) this.options.readings.decoded(open.watch, data);
    const fed = feedParts(open.feeds, data);
    const inner = open.inner?.write(data);
    if (!inner) return fed;
    return fed ? Promise.all([fed, inner]).then(() => undefined) : inner;
  }

  private async closeOpen(): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const { decoder } = open;
    if (decoder && !decoder.destroyed) {
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
      await this.pump(open);
    }
    await open.inner?.end();
    this.finishOpen(open);
  }

  private closeOpenNow(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    open.decoder?.destroy();
    open.inner?.abort();
    this.finishOpen(open);
  }

  private finishOpen(open: OpenPart): void {
    if (open.watch) this.options.readings.leafEnd(open.watch);
    for (const feed of open.feeds) endFeed(feed);
    if (open.text) this.options.text.partEnd(open.text);
  }

  /** Offers a part of another reading to the stages that select it, as the splitter's parts are offered. */
  async offerExtra(p: ExtraPart): Promise<void> {
    const node = {
      contentType: p.contentType,
      filename: p.filename ?? false,
      disposition: p.disposition ?? false,
    } as MimeNode;
    const matched = this.options.requests.filter((r) => !r.reader.detached && selects(r.selector, node));
    if (!matched.length) return;
    const feeds = offerPart(matched, {
      partId: p.partId,
      depth: p.depth,
      contentType: p.contentType,
      charset: p.charset,
      filename: p.filename,
      disposition: p.disposition,
      transferEncoding: p.transferEncoding,
      headers: HeaderBlock.parse(p.headers),
    });
    const open: OpenPart = {
      node,
      decoder: new PassThrough(),
      feeds,
      text: undefined,
      watch: undefined,
      inner: undefined,
    };
    for (let at = 0; at < p.content.length; at += 64 * 1024) {
      await this.deliver(open, p.content.subarray(at, at + 64 * 1024));
    }
    this.finishOpen(open);
  }
}
