import { describe, expect, it } from 'vitest';
import { noLossRun } from './support/chaos.js';

describe('no loss against a misbehaving destination', () => {
  it('every message the sender was told 250 for reached the destination (short run; scripts/no-loss.ts runs 1,000)', async () => {
    const counts = await noLossRun({ messages: 100, senders: 5 });
    console.log(`no-loss: ${JSON.stringify(counts)}`);
    expect(counts.accepted + counts.refused + counts.deferred).toBe(100);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.restarts).toBeGreaterThan(3);
    expect(counts.lost).toBe(0);
    expect(counts.delivered).toBe(counts.accepted);
  }, 180_000);
});
