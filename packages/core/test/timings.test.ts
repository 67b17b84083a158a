import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import { decide, type Plugin } from '../src/index.js';

/** Each stage's time, per phase, in the verdict (`verdict.timings`). */

const MESSAGE = 'Subject: hi\r\nFrom: a@example.test\r\n\r\nhello\r\n';

/** A stage that waits `ms` in each hook named. */
function slow(
  name: string,
  ms: Partial<Record<'connect' | 'helo' | 'mailFrom' | 'rcptTo' | 'message' | 'scored', number>>,
): Plugin {
  const plugin: Record<string, unknown> = { name };
  for (const [hook, wait] of Object.entries(ms)) plugin[hook] = () => sleep(wait);
  return plugin as unknown as Plugin;
}

describe('verdict.timings', () => {
  it('names each stage and phase with the time its hook took', async () => {
    const engine = createEngine();
    engine.use(slow('slow', { connect: 30, helo: 20, mailFrom: 30, rcptTo: 20, message: 60, scored: 25 }));
    engine.use({ name: 'quick', mailFrom() {}, message() {} });
    // A stage may be named like an object built-in: the times are kept apart from the prototype.
    engine.use(slow('constructor', { rcptTo: 5 }));
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    const cv = await conn.connect();
    expect(Object.keys(cv.timings ?? {})).toEqual(['connect']);
    expect(cv.timings?.connect?.slow).toBeGreaterThanOrEqual(25);
    expect((await conn.helo('client.example.test')).timings?.helo?.slow).toBeGreaterThanOrEqual(15);

    const tx = conn.transaction();
    const mv = await tx.mailFrom('a@example.test');
    expect(mv.timings?.mailFrom?.slow).toBeGreaterThanOrEqual(25);
    expect(mv.timings?.mailFrom?.quick).toBeLessThan(20);
    const r1 = await tx.rcptTo('b@example.test');
    await tx.rcptTo('c@example.test');
    expect(r1.timings?.rcptTo?.slow).toBeGreaterThanOrEqual(15);
    expect(r1.timings?.rcptTo?.slow).toBeLessThan(35);
    expect(r1.timings?.rcptTo?.constructor).toBeGreaterThanOrEqual(3);

    const v = await tx.data(MESSAGE);
    const t = v.timings ?? {};
    // The message verdict names the transaction's phases, not the connection's.
    expect(Object.keys(t).sort()).toEqual(['mailFrom', 'message', 'rcptTo', 'scored']);
    expect(t.mailFrom?.slow).toBe(mv.timings?.mailFrom?.slow);
    // Two RCPTs: their times are added up.
    expect(t.rcptTo?.slow).toBeGreaterThanOrEqual(35);
    // The message time is what the stage added after the last byte.
    expect(t.message?.slow).toBeGreaterThanOrEqual(40);
    expect(t.message?.quick).toBeLessThan(30);
    expect(t.scored?.slow).toBeGreaterThanOrEqual(20);
    expect(t.scored?.quick).toBeUndefined();
    expect(tx.verdict?.timings).toEqual(t);
    await tx.dispose();
    await conn.close();
    await engine.stop();
  });

  it('a stage that runs out of time is timed up to its timeout', async () => {
    const engine = createEngine({ stageTimeout: 80, onError: 'accept' });
    engine.use(slow('stuck', { mailFrom: 1_000, message: 1_000 }));
    const v = await engine.scan(MESSAGE, { mailFrom: 'a@example.test', recipients: ['b@example.test'] });
    expect(v.errors.map((e) => e.code)).toEqual(['MEF_CORE_TIMEOUT', 'MEF_CORE_TIMEOUT']);
    for (const ms of [v.timings?.mailFrom?.stuck, v.timings?.message?.stuck]) {
      expect(ms).toBeGreaterThanOrEqual(60);
      expect(ms).toBeLessThan(900);
    }
    await engine.stop();
  });

  it('a refused recipient carries its own RCPT times; decide() alone has none', async () => {
    const engine = createEngine();
    engine.use({
      name: 'refuse',
      rcptTo(ctx) {
        ctx.findings.reject({ code: 550, enhanced: '5.1.1', lines: ['no'] });
      },
    });
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    const tx = conn.transaction();
    await tx.mailFrom('a@example.test');
    const r = await tx.rcptTo('b@example.test');
    expect(r.disposition).toBe('reject');
    expect(typeof r.timings?.rcptTo?.refuse).toBe('number');
    await conn.close();
    await engine.stop();
    expect(decide({ symbols: [], forced: [], errors: [], mutations: [] }).timings).toBeUndefined();
  });
});
