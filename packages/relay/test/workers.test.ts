import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { relaySchema, relayWorkerCount } from '../src/index.js';
import { TrustedNetworks } from '../src/trusted-networks.js';

const minimal = { listen: { host: '127.0.0.1', port: 2525 }, hostname: 'mx1.example.net' };

describe('relay.workers', () => {
  it('auto (the default) is one process per CPU, up to 32', () => {
    expect(relaySchema.parse(minimal).workers).toBeUndefined();
    expect(relaySchema.parse({ ...minimal, workers: 'auto' }).workers).toBe('auto');
    for (const [cpus, n] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [8, 8],
      [64, 32],
    ] as const) {
      expect(relayWorkerCount(undefined, cpus)).toBe(n);
      expect(relayWorkerCount('auto', cpus)).toBe(n);
    }
  });

  it('honours a number whatever the CPUs, and refuses 0, 33 and other words', () => {
    expect(relaySchema.parse({ ...minimal, scheduling: 'round-robin' }).scheduling).toBe('round-robin');
    expect(relaySchema.parse(minimal).scheduling).toBeUndefined();
    expect(relaySchema.safeParse({ ...minimal, scheduling: 'rr' }).success).toBe(false);
    expect(relayWorkerCount(relaySchema.parse({ ...minimal, workers: 2 }).workers, 2)).toBe(2);
    expect(relayWorkerCount(relaySchema.parse({ ...minimal, workers: 1 }).workers, 16)).toBe(1);
    for (const bad of [0, 33, 1.5, 'two', 'AUTO']) {
      expect(relaySchema.safeParse({ ...minimal, workers: bad }).success).toBe(false);
    }
  });
});

describe('the trusted networks of a relay', () => {
  it('answers as the list does, follows a new list, and forgets past its size', () => {
    const a = new BlockList();
    a.addSubnet('192.0.2.0', 24);
    const b = new BlockList();
    b.addSubnet('2001:db8::', 32, 'ipv6');
    const t = new TrustedNetworks(2);
    expect(t.has(a, '192.0.2.7')).toBe(true);
    expect(t.has(a, '::ffff:192.0.2.7')).toBe(true);
    expect(t.has(a, '198.51.100.1')).toBe(false);
    // A reload brings another list: the answers are the new list's.
    expect(t.has(b, '192.0.2.7')).toBe(false);
    expect(t.has(b, '2001:db8::1')).toBe(true);
    // Past its size it starts again, and still answers right.
    expect(t.has(b, '2001:db9::1')).toBe(false);
    expect(t.has(b, '2001:db8::2')).toBe(true);
    expect(t.has(b, 'not an address')).toBe(false);
  });
});
