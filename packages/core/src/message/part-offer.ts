import type { MimePart, PartSelector } from '../plugin.js';
import { FeedStream } from './feed-stream.js';
import type { StageReader } from './stage-reader.js';

/** A stage's `parts(selector, handler)` request. */
export interface PartRequest {
  reader: StageReader;
  selector: PartSelector;
  handler: (part: MimePart) => void | Promise<void>;
}

/** The facts of a part as a stage sees them, without its content. */
export type PartFacts = Omit<MimePart, 'content' | 'skip' | 'bytes' | 'truncated'>;

/** A part as handed to one stage: its facts, and a content stream the pass feeds and counts. */
type PassPart = MimePart & { bytes: number; truncated: boolean };

/** One part fed to one request: the stream the pass pushes the decoded bytes into. */
export interface PartFeed {
  request: PartRequest;
  stream: FeedStream;
  part: PassPart;
  done: boolean;
  /** The stage skipped the part: its bytes are counted, and pushed only if it listens after all. */
  skipped: boolean;
}

/**
 * Offers a part to every request that selected it: each gets its own content stream, and
 * its handler runs now. A handler that throws takes its stage out; one that settles without
 * reading (or skipping) its part is done with it: the rest is skipped rather than stalling
 * the pass until the stage's timeout.
 */
export function offerPart(requests: readonly PartRequest[], facts: PartFacts): PartFeed[] {
  const feeds: PartFeed[] = [];
  for (const request of requests) {
    const { reader } = request;
    const stream = new FeedStream();
    reader.streams.add(stream);
    const part: PassPart = {
      ...facts,
      content: stream,
      bytes: 0,
      truncated: false,
      skip: () => {
        feed.skipped = true;
        stream.resume();
      },
    };
    const feed: PartFeed = { request, stream, part, done: false, skipped: false };
    feeds.push(feed);
    let result: void | Promise<void>;
    try {
      result = request.handler(part);
    } catch (err) {
      reader.fail('exception', err);
      continue;
    }
    reader.pending.push(
      Promise.resolve(result).then(
        () => {
          if (
            !stream.readableEnded &&
            stream.listenerCount('data') + stream.listenerCount('readable') === 0
          ) {
            part.skip();
          }
        },
        (err: unknown) => reader.fail('exception', err),
      ),
    );
  }
  return feeds;
}

/**
 * Feeds decoded bytes to each request's stream, cut at its selector's `maxBytes`; returns a
 * promise only when a reader is behind (the common path stays synchronous).
 */
export function feedParts(feeds: readonly PartFeed[], data: Buffer): Promise<void> | undefined {
  let waits: Promise<void>[] | undefined;
  for (const feed of feeds) {
    if (feed.done) continue;
    const { stream, part, request } = feed;
    if (request.reader.detached || stream.destroyed) {
      feed.done = true;
      continue;
    }
    let piece = data;
    const max = request.selector.maxBytes;
    if (max !== undefined && part.bytes + piece.length > max) {
      piece = piece.subarray(0, Math.max(0, max - part.bytes));
      part.truncated = true;
    }
    part.bytes += piece.length;
    // A skipped part's stream flows to no one: its bytes need not go through it.
    const unheard =
      feed.skipped && stream.listenerCount('data') === 0 && stream.listenerCount('readable') === 0;
    const ok = piece.length && !unheard ? stream.feed(piece) : true;
    if (part.truncated) {
      endFeed(feed);
      continue;
    }
    if (!ok) {
      waits ??= [];
      waits.push(request.reader.waitFor(stream));
    }
  }
  if (!waits) return undefined;
  return Promise.all(waits).then(() => undefined);
}

/** Ends a part's stream for its request (idempotent). */
export function endFeed(feed: PartFeed): void {
  if (feed.done) return;
  feed.done = true;
  feed.stream.finish();
  feed.request.reader.streams.delete(feed.stream);
}
