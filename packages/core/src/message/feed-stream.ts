import { Readable } from 'node:stream';

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
