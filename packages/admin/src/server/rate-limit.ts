/** Failed attempts per key within a sliding window; bounded in keys so a flood cannot grow it. */
export class FailureLimiter {
  readonly #hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly maxKeys = 10_000,
  ) {}

  #recent(key: string, now: number): number[] {
    const list = (this.#hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.#hits.set(key, list);
    else this.#hits.delete(key);
    return list;
  }

  /** True when `key` has used up its failures for now. */
  blocked(key: string, now = Date.now()): boolean {
    return this.#recent(key, now).length >= this.limit;
  }

  /** Counts one failure of `key`. */
  fail(key: string, now = Date.now()): void {
    const list = this.#recent(key, now);
    list.push(now);
    this.#hits.delete(key);
    this.#hits.set(key, list);
    // Oldest key first out (a Map keeps insertion order; a fresh failure re-inserts its key).
    while (this.#hits.size > this.maxKeys) {
      const first = this.#hits.keys().next().value;
      if (first === undefined) break;
      this.#hits.delete(first);
    }
  }

  /** Forgets the failures of `key` (after a successful login). */
  reset(key: string): void {
    this.#hits.delete(key);
  }
}
