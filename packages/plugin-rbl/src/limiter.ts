/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #queue: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.#active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#active--;
          this.#queue.shift()?.();
        });
      };
      if (this.#active < this.#limit) grant();
      else this.#queue.push(grant);
    });
  }
}
