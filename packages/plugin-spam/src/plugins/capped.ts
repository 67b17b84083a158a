import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { SpamError } from '../errors.js';

/**
 * Size caps for the stages that hand the raw message to another program: a buffer of at most
 * `max` bytes (spamd and the native rules want the whole message), or a stream that stops past
 * `max` (rspamd reads it as it comes). Either way the engine's one pass is read to its end.
 */

/** The message held in memory, or only its size when it went over `max`. */
export interface CappedMessage {
  /** The bytes, when the message was at most `max` bytes long. */
  readonly bytes: Buffer | undefined;
  /** Bytes read in all. */
  readonly size: number;
}

/** Reads `raw` to its end, holding at most `max` bytes; past the cap it drops what it held. */
export async function readCapped(raw: Readable, max: number): Promise<CappedMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (over) continue;
    if (size > max) {
      over = true;
      chunks.length = 0;
    } else chunks.push(chunk);
  }
  return { bytes: over ? undefined : Buffer.concat(chunks, size), size };
}

/** Counts bytes and fails with `MEF_SPAM_RSPAMD_TOO_LARGE` past the cap. */
export class ByteCap extends Transform {
  /** Bytes seen so far. */
  size = 0;
  /** True once the cap was passed. */
  over = false;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) {
      this.over = true;
      cb(new SpamError('MEF_SPAM_RSPAMD_TOO_LARGE', `message exceeds maxSize ${this.max}`));
      return;
    }
    cb(null, chunk);
  }
}

/** A capped upload of `raw`, and the way to finish it whatever the other side did. */
export interface CappedUpload {
  /** The stream to send: `raw`'s bytes, failing past the cap or when `raw` breaks off. */
  readonly stream: ByteCap;
  /** Stops sending and reads `raw` to its end, so the one pass goes on. */
  settle(): Promise<void>;
}

/** Pipes `raw` through a {@link ByteCap} of `max` bytes. */
export function capUpload(raw: Readable, max: number): CappedUpload {
  const stream = new ByteCap(max);
  let ended = false;
  const drained = new Promise<void>((resolve) => {
    raw.once('end', () => {
      ended = true;
      resolve();
    });
    raw.once('close', resolve);
    raw.once('error', () => resolve());
  });
  // A source that breaks off (aborted upload) must end the upload too, or the peer would
  // wait for the rest of a chunked body until the timeout.
  raw.once('close', () => {
    if (!ended) stream.destroy(new Error('the message source ended before the end of the message'));
  });
  raw.once('error', (err) => stream.destroy(err));
  raw.pipe(stream);
  return {
    stream,
    async settle() {
      raw.unpipe(stream);
      raw.resume();
      await drained;
    },
  };
}
