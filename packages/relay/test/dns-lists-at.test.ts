import { describe, expect, it } from 'vitest';
import type { TransactionRecord } from '../src/index.js';
import { Dialog, message } from './support/dialog.js';
import { onCleanup, relay, sink, useCleanup } from './support/harness.js';
import { startRbldnsd } from './support/servers.js';

useCleanup();

/**
 * A relay for a.test (and m.test in monitor mode, when asked) whose DNS list (a real rbldnsd,
 * asked through the configured resolver) lists 127.0.0.2.
 */
async function listedRelay(at: 'connect' | 'rcpt', withMonitored = false) {
  const dns = await startRbldnsd('bl.test', ['127.0.0.2']);
  onCleanup(() => dns.stop());
  const s = await sink();
  const records: TransactionRecord[] = [];
  const { port } = await relay(
    {
      domains: {
        'a.test': { destination: `127.0.0.1:${s.port}` },
        ...(withMonitored ? { 'm.test': { destination: `127.0.0.1:${s.port}`, monitor: true } } : {}),
      },
      dnsLists: { at },
    },
    {
      // A score of 1 alone would never reject: the refusal comes from the step configured.
      rbl: { dns: [`127.0.0.1:${dns.port}`], lists: [{ zone: 'bl.test', preset: 'generic', score: 1 }] },
    },
    { onTransaction: (r) => records.push(r) },
  );
  return { port, sink: s, records };
}

async function deliver(port: number, from: string, to = 'x@a.test'): Promise<string[]> {
  const d = await Dialog.open(port, from);
  onCleanup(async () => d.close());
  const steps = [await d.reply()];
  if (!steps[0]?.startsWith('220')) return steps;
  steps.push(await d.cmd('EHLO client.test'));
  steps.push(await d.cmd('MAIL FROM:<sender@example.test>'));
  steps.push(await d.cmd(`RCPT TO:<${to}>`));
  if (!steps[3]?.startsWith('250')) return steps;
  steps.push(await d.cmd('DATA'));
  d.write(`${message('listed?', 'hello')}.\r\n`);
  steps.push(await d.reply());
  return steps;
}

describe('DNS lists at connect or at RCPT, as configured (relay.dnsLists.at)', () => {
  it('at connect: a listed client is refused with 554 before any command, a clean one delivers', async () => {
    const r = await listedRelay('connect');
    const listed = await deliver(r.port, '127.0.0.2');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(/^554 5\.7\.1 .*127\.0\.0\.2.*bl\.test/);
    const clean = await deliver(r.port, '127.0.0.1');
    expect(clean.at(-1)).toMatch(/^250/);
    expect(r.sink.messages()).toHaveLength(1);
  });

  it('at RCPT: a listed client is greeted, then each RCPT gets 550 and nothing is delivered', async () => {
    const r = await listedRelay('rcpt');
    const listed = await deliver(r.port, '127.0.0.2');
    expect(listed[0]).toMatch(/^220/);
    expect(listed[2]).toMatch(/^250/);
    expect(listed[3]).toMatch(/^550 5\.7\.1 .*127\.0\.0\.2.*bl\.test/);
    expect(r.sink.messages()).toHaveLength(0);
    const clean = await deliver(r.port, '127.0.0.1');
    expect(clean.at(-1)).toMatch(/^250/);
    expect(r.sink.messages()).toHaveLength(1);
  });

  it('at connect, while a domain is in monitor mode: the refusal waits for RCPT, where the domain decides', async () => {
    const r = await listedRelay('connect', true);
    // Not refused at connect: the client may be sending to the monitored domain.
    const enforced = await deliver(r.port, '127.0.0.2', 'x@a.test');
    expect(enforced[0]).toMatch(/^220/);
    expect(enforced[3]).toMatch(/^550 5\.7\.1 .*127\.0\.0\.2.*bl\.test/);
    expect(r.sink.messages()).toHaveLength(0);
    // The monitored domain gets the message, and the verdict log says what would have happened.
    const monitored = await deliver(r.port, '127.0.0.2', 'y@m.test');
    expect(monitored.at(-1)).toMatch(/^250/);
    expect(r.sink.messages()).toHaveLength(1);
    expect(r.records.map((x) => [x.domain, x.disposition])).toEqual([['m.test', 'would-reject']]);
    // A clean client delivers to both.
    expect((await deliver(r.port, '127.0.0.1', 'x@a.test')).at(-1)).toMatch(/^250/);
    expect(r.records.at(-1)?.disposition).toBe('accept');
  });

  it('at RCPT: the first recipient already gets its own domain’s monitor mode', async () => {
    const r = await listedRelay('rcpt', true);
    const monitored = await deliver(r.port, '127.0.0.2', 'y@m.test');
    expect(monitored[3]).toMatch(/^250/);
    expect(monitored.at(-1)).toMatch(/^250/);
    expect(r.records.map((x) => x.disposition)).toEqual(['would-reject']);
  });

  it('rejects an unknown step in the configuration', async () => {
    await expect(relay({ dnsLists: { at: 'data' } })).rejects.toThrow(/relay\.dnsLists\.at/);
  });
});
