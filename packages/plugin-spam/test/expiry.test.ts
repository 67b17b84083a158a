import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdTable } from '../src/bayes/id-table.js';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { dayOf } from '../src/bayes/store.js';

const DAY = 86_400_000;

describe('token expiry by age', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('IdTable drops tokens last learned before the cutoff, hapaxes sooner', () => {
    const t = new IdTable(16);
    t.add(1, true, 1, 100); // hapax, day 100
    t.add(2, true, 1, 100);
    t.add(2, false, 1, 100); // two messages, day 100
    t.add(3, true, 1, 50); // old
    t.add(4, true, 1, 50);
    t.add(4, true, 1, 120); // relearned later: dated 120
    expect(t.expire(60, 110)).toBe(2); // 3 (old) and 1 (hapax before 110)
    expect(t.lookup(1)).toEqual([0, 0]);
    expect(t.lookup(2)).toEqual([1, 1]);
    expect(t.lookup(3)).toEqual([0, 0]);
    expect(t.lookup(4)).toEqual([2, 0]);
    expect(t.live).toBe(2);
    expect([...t.entries()].map((e) => e[3]).sort()).toEqual([100, 120]);
  });

  it('MemoryStore dates tokens when learned, expires by age, keeps totals, and saves the dates', async () => {
    let now = Date.UTC(2026, 0, 1);
    const store = new MemoryStore({ now: () => now });
    await store.learn('m1', [1, 2, 'old-word'], 'spam');
    await store.learn('m2', [2, 3], 'ham');
    now += 40 * DAY;
    await store.learn('m3', [3, 4, 'new-word'], 'spam');
    now += 5 * DAY;
    // Nothing is older than 60 days; hapaxes older than 30 days go: 1 and 'old-word'.
    expect(await store.expire({ maxAgeDays: 60, hapaxMaxAgeDays: 30 })).toBe(2);
    expect(store.countsSync([1, 2, 'old-word', 3])).toEqual([
      { spam: 0, ham: 0 },
      { spam: 1, ham: 1 },
      { spam: 0, ham: 0 },
      { spam: 1, ham: 1 },
    ]);
    expect(await store.totals()).toEqual({ spam: 2, ham: 1 });
    // Older than 30 days: 2 (learned on day 0) goes; 3 and 4 were learned on day 40.
    expect(await store.expire({ maxAgeDays: 30 })).toBe(1);
    expect(store.countsSync([2, 3, 4])).toEqual([
      { spam: 0, ham: 0 },
      { spam: 1, ham: 1 },
      { spam: 1, ham: 0 },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'mef-expiry-'));
    dirs.push(dir);
    await store.save(join(dir, 'm.json'));
    const loaded = await MemoryStore.load(join(dir, 'm.json'), { now: () => now + 100 * DAY });
    expect(await loaded.expire({ maxAgeDays: 90 })).toBe(3); // 3, 4 and 'new-word'
    expect(loaded.size).toBe(0);
  });

  it('loads a version 2 model (no dates) and dates its tokens the day it loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mef-expiry-'));
    dirs.push(dir);
    const file = join(dir, 'v2.json');
    await writeFile(
      file,
      JSON.stringify({
        format: 'mef-bayes/2',
        totals: { spam: 1, ham: 0 },
        seen: { d: 's' },
        tokens: [
          [7, 1, 0],
          ['w', 1, 0],
        ],
      }),
    );
    const now = Date.UTC(2026, 5, 1);
    const store = await MemoryStore.load(file, { now: () => now });
    expect(store.countsSync([7, 'w'])).toEqual([
      { spam: 1, ham: 0 },
      { spam: 1, ham: 0 },
    ]);
    expect(await store.expire({ maxAgeDays: 1 })).toBe(0);
    await store.save(file);
    const again = await MemoryStore.load(file, { now: () => now + 3 * DAY });
    expect(await again.expire({ maxAgeDays: 1 })).toBe(2);
    expect(dayOf(now)).toBe(Math.floor(now / DAY));
  });
});
