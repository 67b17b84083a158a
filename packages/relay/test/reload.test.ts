import { describe, expect, it } from 'vitest';
import { message, startTransaction } from './support/dialog.js';
import { GTUBE, relay, send, sink, useCleanup } from './support/harness.js';

useCleanup();

describe('Relay.reload and the per-transaction log line', () => {
  it('applies new filters to new sessions, refuses a bad configuration and keeps the running one', async () => {
    const s = await sink();
    const lines: Record<string, unknown>[] = [];
    const section = {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: 'relay.test',
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
    };
    const { relay: r, port } = await relay(
      section,
      { rules: { enabled: false } },
      { log: { info: (o) => lines.push(o as Record<string, unknown>) } },
    );
    expect((await send(port, { to: 'x@a.test', text: GTUBE })).response).toMatch(/^250/);

    await expect(r.reload({ relay: { ...section, limits: { recipients: -1 } } })).rejects.toThrow(
      /relay\.limits\.recipients/,
    );
    expect((await send(port, { to: 'x@a.test', text: `${GTUBE} again` })).response).toMatch(/^250/);

    const restart = await r.reload({
      bayes: { enabled: false },
      relay: { ...section, listen: { host: '127.0.0.1', port: 1 } },
    });
    expect(restart).toEqual(['relay.listen']);
    expect(r.config.relay.listen.port).toBe(1);
    // The rules are on again (the default): GTUBE is refused on a new session.
    await expect(send(port, { to: 'x@a.test', text: GTUBE })).rejects.toMatchObject({ responseCode: 554 });

    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    d.write(`${message('timed', 'clean')}.\r\n`);
    expect(await d.reply()).toMatch(/^250/);
    d.close();
    const last = lines.at(-1) as {
      disposition: string;
      stages: Record<string, Record<string, number>>;
      scanMs: number;
    };
    expect(last.disposition).toBe('accept');
    // The engine's timings from the verdict: ms by phase, then by stage.
    expect(Object.keys(last.stages)).toEqual(expect.arrayContaining(['rcptTo', 'message']));
    expect(Object.keys(last.stages.message ?? {})).toEqual(
      expect.arrayContaining(['mef-relay', 'spam-rules', 'banned-attachments']),
    );
    for (const phase of Object.values(last.stages))
      for (const ms of Object.values(phase)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(last.scanMs).toBeGreaterThanOrEqual(0);
  });
});
