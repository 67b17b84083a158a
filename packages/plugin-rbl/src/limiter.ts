/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #queue: ((release: () => void) => void)[] = [];
  #head = 0;
  #pumping = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Calls `task` with a release function as soon as a slot is free: at once (synchronously)
   * when one is, else in order. Callbacks rather than promises keep a lookup's cost low.
   */
  enter(task: (release: () => void) => void): void {
    if (this.#active < this.#limit) this.#grant(task);
    else this.#queue.push(task);
  }

  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => this.enter(resolve));
  }

  #grant(task: (release: () => void) => void): void {
    this.#active++;
    let released = false;
    task(() => {
      if (released) return;
      released = true;
      this.#active--;
      this.#pump();
    });
  }

  /** Starts waiting tasks; a loop, not recursion, so tasks that release at once cannot overflow the stack. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#active < this.#limit) {
        const next = this.#next();
        if (!next) break;
        this.#grant(next);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #next(): ((release: () => void) => void) | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const task = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined as never;
    // Compact now and then instead of shifting on every release.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return task;
  }
}
