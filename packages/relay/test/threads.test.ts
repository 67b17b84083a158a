/**
 * `relay.threads`: the filters' message stages in core's worker threads (the threads run
 * `serveRelayThread`, as `mef relay`'s do), against a real destination (Postfix's smtp-sink).
 */
import { ThreadPool } from '@mef/core/hosts';
import { smtpSinkPath } from '@mef/test-servers';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RelayConfig, relayThreadCount, type TransactionRecord } from '../src/index.js';
import { Dialog, message, startTransaction } from './support/dialog.js';
import { GTUBE, relay, send, sink, useCleanup } from './support/harness.js';

useCleanup();

beforeAll(() => {
  if (!smtpSinkPath) {
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
});

const file = new URL('./support/relay-thread.mjs', import.meta.url);

/** A relay whose message phase runs in one thread; records each transaction. */
async function threaded(domains: Record<string, unknown>) {
  const records: TransactionRecord[] = [];
  const r = await relay(
    { domains },
    {},
    {
      threads: (config: RelayConfig) =>
        new ThreadPool({ size: relayThreadCount(1, 2), file, workerData: { config } }),
      onTransaction: (x) => records.push(x),
    },
  );
  return { ...r, records };
}

describe('relay.threads', () => {
  it('counts threads: none by default, auto is one with 2 CPUs or more, a number as it is', () => {
    expect(relayThreadCount(undefined, 8)).toBe(0);
    expect(relayThreadCount('auto', 2)).toBe(1);
    expect(relayThreadCount('auto', 1)).toBe(0);
    expect(relayThreadCount(3, 1)).toBe(3);
  });

  it('scans in a thread: GTUBE refused with 554 and not delivered, clean mail delivered with the Received field', async () => {
    const s = await sink();
    const {
      port,
      relay: r,
      records,
    } = await threaded({
      'customer.test': { destination: `127.0.0.1:${s.port}` },
    });
    expect(r.threads).toBe(1);
    await expect(send(port, { to: 'alice@customer.test', text: `spam ${GTUBE}` })).rejects.toMatchObject({
      responseCode: 554,
    });
    const info = await send(port, { to: 'alice@customer.test', text: 'Hello Alice\n.leading dot\n' });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: .* delivered to destination/);
    const msgs = s.messages();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(
      /Received: from client\.test \(.*\[127\.0\.0\.1\]\)\r?\n\tby relay\.test with ESMTP id/,
    );
    expect(msgs[0]).toMatch(/Hello Alice\r?\n\.leading dot/);
    expect(records.map((x) => x.disposition)).toEqual(['reject', 'accept']);
    // The thread's symbol, recorded by the relay's engine.
    expect(records[0]?.symbols).toContain('GTUBE');
  });

  it("applies a domain's scanner switch in the thread: spam off lets GTUBE through, with the score's header off too", async () => {
    const s = await sink();
    const { port } = await threaded({
      'customer.test': { destination: `127.0.0.1:${s.port}`, scanners: { spam: false } },
    });
    const info = await send(port, { to: 'alice@customer.test', text: `spam ${GTUBE}` });
    expect(info.response).toMatch(/^250 /);
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).not.toMatch(/X-Spam/);
  });

  it('a sender cannot switch a filter off: its own X-MEF-SKIP parameter never reaches the thread', async () => {
    const s = await sink();
    const { port, records } = await threaded({ 'customer.test': { destination: `127.0.0.1:${s.port}` } });
    const d = await Dialog.open(port);
    expect(await d.reply()).toMatch(/^220/);
    expect(await d.cmd('EHLO client.test')).toMatch(/^250/);
    expect(await d.cmd('MAIL FROM:<sender@example.test> X-MEF-SKIP=spam-rules')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<alice@customer.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    d.write(`${message('spam', `spam ${GTUBE}`)}.\r\n`);
    expect(await d.reply()).toMatch(/^554/);
    d.close();
    expect(s.messages()).toHaveLength(0);
    expect(records[0]?.symbols).toContain('GTUBE');
  });

  it('a sender that drops in the middle of DATA: nothing delivered, the thread serves the next message', async () => {
    const s = await sink();
    const { port, records } = await threaded({ 'customer.test': { destination: `127.0.0.1:${s.port}` } });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<alice@customer.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    d.write(message('half', `dropped ${'x'.repeat(200_000)}`));
    d.close();
    for (let i = 0; i < 200 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const info = await send(port, { to: 'alice@customer.test', text: 'the next one' });
    expect(info.response).toMatch(/^250 /);
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).toContain('the next one');
    expect(records.map((x) => x.disposition)).toEqual(['tempfail', 'accept']);
  });

  it('a thread that dies with the message gives 451 and delivers nothing; the next message gets a new thread', async () => {
    const s = await sink();
    const { port, records } = await threaded({ 'customer.test': { destination: `127.0.0.1:${s.port}` } });
    await expect(send(port, { to: 'alice@customer.test', text: 'XDIE now' })).rejects.toMatchObject({
      responseCode: 451,
    });
    expect(s.messages()).toHaveLength(0);
    const info = await send(port, { to: 'alice@customer.test', text: 'after the crash' });
    expect(info.response).toMatch(/^250 /);
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).toContain('after the crash');
    expect(records.map((x) => x.disposition)).toEqual(['tempfail', 'accept']);
  });
});
