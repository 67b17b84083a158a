import { MefError } from '../errors.js';
import { raceTimeout, TIMED_OUT } from '../timeout.js';
import type { FeedStream } from './feed-stream.js';

/** How a stage failed while reading the pass. */
export type ReaderFailure = 'timeout' | 'exception';

/**
 * A stage as a reader of the one pass: the view streams it reads, the part handlers still
 * running, and how long it may stall the pass before it is taken out (its timeout).
 */
export class StageReader {
  detached = false;
  readonly streams = new Set<FeedStream>();
  readonly pending: Promise<void>[] = [];

  constructor(
    readonly name: string,
    readonly stallTimeout: number,
    private readonly onFailure: (kind: ReaderFailure, err: unknown) => void,
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

  /** Records the failure once and takes the stage out. */
  fail(kind: ReaderFailure, err: unknown): void {
    if (this.detached) return;
    this.onFailure(kind, err);
    this.detach();
  }

  /**
   * Waits until `stream` can take more, the stream goes away, or this stage has blocked the
   * pass for longer than its timeout (then it is taken out and the pass goes on).
   */
  async waitFor(stream: FeedStream): Promise<void> {
    if (!stream.behind || this.detached) return;
    if ((await raceTimeout(stream.whenReady(), this.stallTimeout)) === TIMED_OUT) {
      this.fail(
        'timeout',
        new MefError(
          'MEF_CORE_TIMEOUT',
          `stage ${this.name} blocked the message pass for more than ${this.stallTimeout} ms`,
          { kind: 'timeout' },
        ),
      );
    }
  }
}
