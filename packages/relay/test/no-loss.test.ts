import { describe, expect, it } from 'vitest';
import { noLossRun } from './support/chaos.js';

describe('no loss against a misbehaving destination', () => {
  it('250 messages: each one the sender was told 250 for reached the destination, no copy beyond what retries explain (scripts/no-loss.ts runs 1,000)', async () => {
    const counts = await noLossRun({ messages: 250, senders: 10 });
    console.log(`no-loss: ${JSON.stringify(counts)}`);
    expect(counts.accepted + counts.refused + counts.deferred).toBe(250);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.restarts).toBeGreaterThan(3);
    expect(counts.lost).toBe(0);
    expect(counts.delivered).toBe(counts.accepted);
    expect(counts.unexplained).toBe(0);
  }, 180_000);
});
