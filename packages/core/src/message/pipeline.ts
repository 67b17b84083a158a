import { MefError } from '../errors.js';
import type { ExtractedText, MessageView } from '../plugin.js';
import { FeedStream } from './feed-stream.js';
import type { Limits, OnLimit } from './limits.js';
import { PartDispatcher } from './part-dispatcher.js';
import type { PartRequest } from './part-offer.js';
import { Readings } from './readings.js';
import { RootHeaderScan } from './root-header.js';
import type { StageReader } from './stage-reader.js';
import type { MessageStore } from './store.js';
import { TextCollector } from './text-collector.js';

export interface PassOptions {
  limits: Limits;
  onLimit: OnLimit;
  /** Told when the message has no header block (its first line is no header field). */
  onHeaderless?: () => void;
  store?: MessageStore | undefined;
}

interface RawFeed {
  reader: StageReader;
  stream: FeedStream;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const CRLF = Buffer.from('\r\n');

/**
 * The one pass over a message. Bytes go in once (`write`, then `end`): the size limit, the
 * kept copy, the raw views, the root header scan (`root-header.ts`), and the splitter with
 * its part dispatch (`part-dispatcher.ts`) and text collection (`text-collector.ts`). Every
 * view a stage asked for is fed from here with backpressure. The splitter runs only when some
 * stage wants MIME parts or text; a part no stage selected is never decoded.
 */
export class MessagePass {
  size = 0;
  private started = false;
  private finished = false;
  private sizeLimited = false;
  private readonly rawFeeds: RawFeed[] = [];
  private readonly partRequests: PartRequest[] = [];
  private readonly text: TextCollector;
  private readonly root: RootHeaderScan;
  private dispatcher: PartDispatcher | undefined;
  private readonly textResult = deferred<ExtractedText>();
  private readonly endResult = deferred<{ size: number }>();
  /** The other readings of an ambiguous message (readings.ts). */
  private readonly readings: Readings;

  constructor(private readonly options: PassOptions) {
    this.readings = new Readings(options.limits, options.onLimit);
    this.text = new TextCollector(options.limits.maxTextBytes, options.onLimit);
    this.root = new RootHeaderScan(options.limits.maxHeaderBytes, options.onLimit);
  }

  /** Offset of the line end that closes the root header block's last field; -1 until found. */
  get headerEnd(): number {
    return this.root.headerEnd;
  }

  /** True when the message has no header block: its first line is no header field. */
  get headerless(): boolean {
    return this.root.headerless;
  }

  /** Line end of a headerless message's first line. */
  get eol(): '\r\n' | '\n' {
    return this.root.eol;
  }

  /** The received root header block bytes (up to `headerEnd`). */
  headerBytes(): Buffer | undefined {
    return this.root.bytes;
  }

  /** The view handed to one stage. */
  view(reader: StageReader): MessageView {
    const late = (what: string) => {
      if (this.started)
        throw new MefError(
          'MEF_CORE_VIEW_LATE',
          `stage ${reader.name} asked for ${what} after the message started to flow; ask before the first await`,
        );
    };
    const pass = this;
    return this.readings.link({
      headers: () => this.root.headers,
      parts: (selector, handler) => {
        late('parts()');
        if (typeof handler !== 'function')
          throw new TypeError('parts(selector, handler): handler must be a function');
        this.partRequests.push({ reader, selector: selector ?? {}, handler });
      },
      raw: () => {
        late('raw()');
        const stream = new FeedStream();
        reader.streams.add(stream);
        this.rawFeeds.push({ reader, stream });
        return stream;
      },
      text: () => {
        late('text()');
        this.text.wanted = true;
        return this.textResult.promise;
      },
      get size() {
        return pass.size;
      },
      ended: () =>
        this.endResult.promise.then(async (r) => {
          await reader.settled();
          return r;
        }),
    });
  }

  /** Locks the views and prepares the splitter if any stage needs it. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.readings.active = this.partRequests.length > 0;
    if (this.partRequests.length || this.text.wanted) {
      this.dispatcher = new PartDispatcher({
        limits: this.options.limits,
        onLimit: this.options.onLimit,
        requests: this.partRequests,
        text: this.text,
        readings: this.readings,
      });
    }
  }

  /** Feeds bytes; resolves when the pass can take more. */
  async write(chunk: Buffer): Promise<void> {
    if (this.finished) throw new MefError('MEF_CORE_PHASE_ORDER', 'write after end of message');
    if (!this.started) this.start();
    this.size += chunk.length;
    if (this.sizeLimited) return;
    const { limits } = this.options;
    if (this.size > limits.maxMessageBytes) {
      this.sizeLimited = true;
      this.options.onLimit('size', `message larger than ${limits.maxMessageBytes} bytes`);
      // Views end here; the rest of the input is read and dropped so the host's stream completes.
      await this.closeViews();
      return;
    }
    if (this.options.store) await this.options.store.write(chunk);
    this.readings.keep(chunk);
    if (this.rawFeeds.length) await this.feedRaw(chunk);
    const ready = this.root.take(chunk);
    const wait = ready && this.parse(ready);
    if (wait) await wait;
  }

  /** Scans and splits bytes; returns a promise only when the splitter is behind (one promise less per chunk). */
  private parse(chunk: Buffer): Promise<void> | undefined {
    if (this.root.scan(chunk)) {
      this.options.onHeaderless?.();
      // The splitter reads everything as body, as a mail client shows such a message.
      this.dispatcher?.writeNow(CRLF);
    }
    return this.dispatcher?.write(chunk);
  }

  private async feedRaw(chunk: Buffer): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const { reader, stream } of this.rawFeeds) {
      if (reader.detached || stream.destroyed) continue;
      if (!stream.feed(chunk)) waits.push(reader.waitFor(stream));
    }
    if (waits.length) await Promise.all(waits);
  }

  /** Ends the message; resolves when every view has been fed to the end. */
  async end(): Promise<void> {
    if (this.finished) return;
    if (!this.started) this.start();
    this.finished = true;
    if (this.options.store) await this.options.store.end();
    const held = this.root.flush();
    if (held) await this.parse(held);
    this.root.end();
    await this.closeViews();
    // Over the size limit the message was not kept whole: no other reading, but the report
    // still resolves (a stage awaiting it must not wait for its timeout).
    if (this.sizeLimited) this.readings.cancel();
    else {
      const dispatcher = this.dispatcher;
      await this.readings.finish((p) => (dispatcher ? dispatcher.offerExtra(p) : Promise.resolve()));
    }
    this.endResult.resolve({ size: this.size });
  }

  private async closeViews(): Promise<void> {
    await this.dispatcher?.end();
    for (const { stream } of this.rawFeeds) stream.finish();
    this.root.settle();
    this.resolveText();
  }

  /** Source failed: every view ends now, incomplete; stages see an error on their streams. */
  abort(err: Error): void {
    this.finished = true;
    this.dispatcher?.abort();
    this.readings.cancel();
    for (const { stream } of this.rawFeeds) stream.destroy(err);
    this.root.settle();
    this.resolveText();
    this.endResult.resolve({ size: this.size });
  }

  private resolveText(): void {
    this.textResult.resolve(this.text.result(() => this.root.block?.getDecoded('subject') ?? ''));
  }
}
