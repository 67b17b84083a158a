import { describe, expect, it } from 'vitest';
import { IdTable } from '../src/bayes/id-table.js';

describe('IdTable', () => {
  it('counts by 52-bit id through growth, never below zero, and lists live entries', () => {
    const t = new IdTable(16);
    const ids = Array.from({ length: 5000 }, (_, i) => (i * 2654435761) % 2 ** 52);
    ids.push(2 ** 52 - 1); // ids[0] is 0, the lowest id
    for (const id of ids) t.add(id, true, 1);
    for (const id of ids.slice(0, 100)) t.add(id, false, 2);
    expect(t.live).toBe(ids.length);
    expect(t.lookup(ids[0] as number)).toEqual([1, 2]);
    expect(t.lookup(2 ** 52 - 1)).toEqual([1, 0]);
    expect(t.lookup(0)).toEqual([1, 2]);
    expect(t.lookup(123.0 + 2 ** 40)).toEqual([0, 0]);
    t.add(ids[5] as number, true, -1);
    t.add(ids[5] as number, false, -5);
    expect(t.lookup(ids[5] as number)).toEqual([0, 0]);
    expect(t.live).toBe(ids.length - 1);
    t.add(999, true, -1);
    expect(t.lookup(999)).toEqual([0, 0]);
    expect([...t.entries()].length).toBe(ids.length - 1);
  });
});
