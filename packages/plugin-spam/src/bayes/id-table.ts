/**
 * Counts keyed by 52-bit token ids in flat typed arrays (open addressing, linear probing).
 * A Map of a few hundred thousand heap-number keys costs a pointer chase per lookup; this
 * costs one or two array reads, which is most of classification's time.
 */
export class IdTable {
  private keys: Float64Array;
  private spam: Uint32Array;
  private ham: Uint32Array;
  /** Day (days since 1970) a message with the token was last learned; 0 when unknown. */
  private days: Uint32Array;
  private mask: number;
  private used = 0;
  /** Entries with a non-zero count. */
  live = 0;

  constructor(capacity = 1 << 16) {
    let cap = 1 << 4;
    while (cap < capacity) cap <<= 1;
    this.keys = new Float64Array(cap);
    this.spam = new Uint32Array(cap);
    this.ham = new Uint32Array(cap);
    this.days = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Slot of `id`, or -1. Keys are stored as id + 1 so that 0 marks an empty slot. */
  private find(id: number): number {
    const key = id + 1;
    let i = (id >>> 0) & this.mask;
    for (;;) {
      const k = this.keys[i] as number;
      if (k === key) return i;
      if (k === 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  get(id: number, out: { spam: number; ham: number }): void {
    const i = this.find(id);
    if (i < 0) {
      out.spam = 0;
      out.ham = 0;
    } else {
      out.spam = this.spam[i] as number;
      out.ham = this.ham[i] as number;
    }
  }

  spamOf(id: number): number {
    const i = this.find(id);
    return i < 0 ? 0 : (this.spam[i] as number);
  }

  /** Spam and ham counts at once: [spam, ham], zeros when unknown. */
  lookup(id: number): readonly [number, number] {
    const i = this.find(id);
    return i < 0 ? ZERO : [this.spam[i] as number, this.ham[i] as number];
  }

  /** Adds `delta` to one class; counts never go below 0. A learning (`delta > 0`) on `day` dates the token. */
  add(id: number, spam: boolean, delta: number, day = 0): void {
    let i = this.find(id);
    if (i < 0) {
      if (delta <= 0) return;
      if ((this.used + 1) * 2 > this.keys.length) this.grow();
      i = (id >>> 0) & this.mask;
      while (this.keys[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = id + 1;
      this.used++;
    }
    if (delta > 0 && day > (this.days[i] as number)) this.days[i] = day;
    const arr = spam ? this.spam : this.ham;
    const before = (this.spam[i] as number) + (this.ham[i] as number);
    arr[i] = Math.max(0, (arr[i] as number) + delta);
    const after = (this.spam[i] as number) + (this.ham[i] as number);
    if (before === 0 && after > 0) this.live++;
    else if (before > 0 && after === 0) this.live--;
  }

  /** Live entries as [id, spam, ham, day]. */
  *entries(): Generator<[number, number, number, number]> {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i] as number;
      if (k === 0) continue;
      const s = this.spam[i] as number;
      const h = this.ham[i] as number;
      if (s + h > 0) yield [k - 1, s, h, this.days[i] as number];
    }
  }

  /**
   * Drops every live token last learned before `cutoff` (a day number), and hapaxes (seen in
   * one message) last learned before `hapaxCutoff`. Returns how many were dropped.
   */
  expire(cutoff: number, hapaxCutoff = cutoff): number {
    let dropped = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] === 0) continue;
      const n = (this.spam[i] as number) + (this.ham[i] as number);
      if (n === 0) continue;
      const day = this.days[i] as number;
      if (day < cutoff || (n === 1 && day < hapaxCutoff)) {
        this.spam[i] = 0;
        this.ham[i] = 0;
        this.live--;
        dropped++;
      }
    }
    return dropped;
  }

  private grow(): void {
    const old = { keys: this.keys, spam: this.spam, ham: this.ham, days: this.days };
    const cap = this.keys.length * 2;
    this.keys = new Float64Array(cap);
    this.spam = new Uint32Array(cap);
    this.ham = new Uint32Array(cap);
    this.days = new Uint32Array(cap);
    this.mask = cap - 1;
    this.used = 0;
    for (let j = 0; j < old.keys.length; j++) {
      const k = old.keys[j] as number;
      if (k === 0) continue;
      const s = old.spam[j] as number;
      const h = old.ham[j] as number;
      if (s + h === 0) continue; // drop emptied entries while we are at it
      let i = ((k - 1) >>> 0) & this.mask;
      while (this.keys[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.spam[i] = s;
      this.ham[i] = h;
      this.days[i] = old.days[j] as number;
      this.used++;
    }
  }
}

const ZERO: readonly [number, number] = Object.freeze([0, 0]) as readonly [number, number];
