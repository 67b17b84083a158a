/**
 * PROGRESS while engine work is pending, so the MTA's timeouts (Postfix
 * `milter_command_timeout`, `milter_content_timeout`) do not fire. One timer per session, not
 * one per command: a tick sends PROGRESS when work is pending and none settled since the tick
 * before, so during a long wait the MTA hears from us at least every two intervals.
 */
export class Progress {
  #pending = 0;
  #settled = 0;
  #settledAtTick = -1;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval: number,
    private readonly sendProgress: () => void,
  ) {}

  /** Awaits `work`, with PROGRESS ticks meanwhile. */
  around<T>(work: Promise<T>): Promise<T> {
    this.#pending++;
    this.#timer ??= setInterval(() => this.#tick(), this.interval).unref();
    // One reaction on `work`, not an async function's extra promise and awaits per engine call.
    return work.finally(this.#done);
  }

  readonly #done = (): void => {
    this.#pending--;
    this.#settled++;
  };

  #tick(): void {
    if (this.#pending > 0 && this.#settled === this.#settledAtTick) this.sendProgress();
    this.#settledAtTick = this.#settled;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
