/**
 * A stage's abort signal, made only when the stage reads it. Most stages never do, and an
 * AbortController made per stage and message, then aborted when the stage is done (an event
 * dispatched each time), was a visible share of a milter's CPU per message. Read after
 * `abort()`, the signal is already aborted with the same reason.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** The signal: made at the first read. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts the signal (at once if it was read, else when it is); later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
