import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../src/index.js';
import { Limiter } from '../src/limiter.js';

describe('MemoryCache', () => {
  it('expires entries after their TTL', () => {
    let now = 0;
    const c = new MemoryCache({ now: () => now });
    c.set('a', { records: ['127.0.0.2'] }, 10);
    expect(c.get('a')).toEqual({ records: ['127.0.0.2'] });
    now = 9_999;
    expect(c.get('a')).toBeDefined();
    now = 10_000;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = new MemoryCache({ maxEntries: 2 });
    c.set('a', { records: [] }, 60);
    c.set('b', { records: [] }, 60);
    c.get('a');
    c.set('c', { records: [] }, 60);
    expect(c.get('a')).toBeDefined();
    expect(c.get('b')).toBeUndefined();
    expect(c.get('c')).toBeDefined();
  });

  it('stores nothing with a zero TTL', () => {
    const c = new MemoryCache();
    c.set('a', { records: [] }, 0);
    expect(c.size).toBe(0);
  });
});

describe('Limiter', () => {
  it('runs at most limit tasks at once, in order', async () => {
    const l = new Limiter(2);
    const order: number[] = [];
    const releases = await Promise.all([l.acquire(), l.acquire()]);
    expect(l.active).toBe(2);
    const third = l.acquire().then((r) => {
      order.push(3);
      return r;
    });
    await Promise.resolve();
    expect(l.waiting).toBe(1);
    releases[0]?.();
    releases[0]?.(); // a second release is ignored
    (await third)();
    expect(order).toEqual([3]);
    releases[1]?.();
    expect(l.active).toBe(0);
  });

  it('starts a free slot at once and survives 100,000 waiters that release at once', () => {
    const l = new Limiter(1);
    let hold: (() => void) | undefined;
    l.enter((release) => {
      hold = release;
    });
    expect(l.active).toBe(1);
    let ran = 0;
    for (let i = 0; i < 100_000; i++) {
      l.enter((release) => {
        ran++;
        release();
      });
    }
    expect(l.waiting).toBe(100_000);
    hold?.();
    expect(ran).toBe(100_000);
    expect(l.active).toBe(0);
    expect(l.waiting).toBe(0);
  });
});
