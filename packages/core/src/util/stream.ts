import { type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * A size cap for stages that hand the raw message to another program or library as a stream
 * (rspamd's HTTP upload, a DKIM verifier): the bytes pass through until `max`, then the stream
 * fails with the stage's own error, and the engine's one pass is still read to its end.
 */

/** Counts the bytes that pass and fails with `tooLarge()` past `max`. */
export class CappedStream extends Transform {
  /** Bytes seen so far. */
  size = 0;
  /** True once the cap was passed. */
  over = false;
  readonly #max: number;
  readonly #tooLarge: (max: number) => Error;

  constructor(max: number, tooLarge: (max: number) => Error) {
    super();
    this.#max = max;
    this.#tooLarge = tooLarge;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.#max) {
      this.over = true;
      cb(this.#tooLarge(this.#max));
      return;
    }
    cb(null, chunk);
  }
}

/** A capped copy of a source, and the way to finish it whatever the consumer did. */
export interface CappedSource {
  /** `raw`'s bytes, failing past the cap or when `raw` breaks off. */
  readonly stream: CappedStream;
  /** Stops the copy and reads `raw` to its end, so the one pass goes on. */
  settle(): Promise<void>;
}

/**
 * Pipes `raw` (a stage's raw view) through a {@link CappedStream} of `max` bytes. A source that
 * breaks off (an aborted upload) fails the copy too, so a consumer waiting for the rest does not
 * wait until its timeout.
 */
export function capSource(raw: Readable, max: number, tooLarge: (max: number) => Error): CappedSource {
  const stream = new CappedStream(max, tooLarge);
  let ended = false;
  const drained = new Promise<void>((resolve) => {
    raw.once('end', () => {
      ended = true;
      resolve();
    });
    raw.once('close', resolve);
    raw.once('error', () => resolve());
  });
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
