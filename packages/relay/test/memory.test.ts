import { describe, expect, it } from 'vitest';
import { memoryRun } from './support/memory-run.js';

const MB = 2 ** 20;

describe('memory under load', () => {
  it('10 sessions at once, 16 MB each (160 MB in flight): every message delivered, memory stays bounded (scripts/memory.ts runs 200 x 1 MB)', async () => {
    const r = await memoryRun({ sessions: 10, bytes: 16 * MB });
    console.log(
      `memory: ${JSON.stringify({ ...r, rssGrowthMB: Math.round((r.rssPeak - r.rssBefore) / MB), buffersGrowthMB: Math.round((r.buffersPeak - r.buffersBefore) / MB) })}`,
    );
    expect(r.accepted).toBe(10);
    expect(r.delivered).toBe(10);
    // Held whole, the messages alone would take 160 MB: each keeps at most 1 MiB in memory and
    // spills the rest to a temporary file (seen: about 36 MB of Buffers and 60 MB of RSS more on
    // a quiet machine, 81 MB of Buffers during the whole test suite, where the collector runs
    // later). The bound stays well under the 160 MB that holding the messages would take.
    expect(r.buffersPeak - r.buffersBefore).toBeLessThan(120 * MB);
    expect(r.rssPeak - r.rssBefore).toBeLessThan(130 * MB);
  }, 90_000);
});
