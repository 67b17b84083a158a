import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { Phase, Plugin } from '../src/index.js';

const phases: Phase[] = ['connect', 'helo', 'mailFrom', 'rcptTo', 'message', 'scored', 'close'];

describe('Engine.stagesAt', () => {
  it('names the plugins with a hook at each phase, in run order, and none where no hook is', () => {
    const late: Plugin = { name: 'late', priority: 200, helo() {}, message() {} };
    const early: Plugin = { name: 'early', priority: 10, rcptTo() {}, message() {}, close() {} };
    const setupOnly: Plugin = { name: 'setup-only', setup() {}, health: () => ({ ok: true }) };
    const e = createEngine().use(late).use(early).use(setupOnly);
    expect(Object.fromEntries(phases.map((p) => [p, e.stagesAt(p)]))).toEqual({
      connect: [],
      helo: ['late'],
      mailFrom: [],
      rcptTo: ['early'],
      message: ['early', 'late'],
      scored: [],
      close: ['early'],
    });
    expect(createEngine().stagesAt('message')).toEqual([]);
  });

  it('a phase with no stage answers accept, so a host need not wait for it', async () => {
    const e = createEngine().use({
      name: 'body-only',
      message(ctx) {
        ctx.findings.force('reject', { reason: 'no' });
      },
    });
    await e.start();
    expect(e.stagesAt('connect')).toEqual([]);
    const conn = e.connection({ clientAddress: '192.0.2.1' });
    expect((await conn.connect()).disposition).toBe('accept');
    expect((await conn.helo('client.example')).disposition).toBe('accept');
    const tx = conn.transaction();
    expect((await tx.mailFrom('a@example.org')).disposition).toBe('accept');
    expect((await tx.rcptTo('b@example.net')).disposition).toBe('accept');
    expect((await tx.data('Subject: x\r\n\r\nhi\r\n')).disposition).toBe('reject');
    await tx.dispose();
    await conn.close();
    await e.stop();
  });
});
