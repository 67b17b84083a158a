import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, smtpSinkPath } from '@mef/test-servers';
import { beforeAll, describe, expect, it } from 'vitest';
import { GTUBE, relay, send, sink, useCleanup } from './support/harness.js';

useCleanup();

beforeAll(() => {
  if (!smtpSinkPath) {
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
});

async function setup(flags: string[] = [], extra: Record<string, unknown> = {}) {
  const s = await sink(flags);
  const r = await relay({
    domains: {
      'customer.test': { destination: `127.0.0.1:${s.port}` },
      'newcustomer.test': { destination: `127.0.0.1:${s.port}`, monitor: true },
      'other.test': { destination: `127.0.0.1:${await freePort()}` },
    },
    ...extra,
  });
  return { ...r, sink: s };
}

describe('relay against a real destination (Postfix smtp-sink)', () => {
  it('works from the minimal configuration of the issue', async () => {
    const s = await sink();
    const r = await relay({
      hostname: 'mx1.example.net',
      domains: { 'example.net': { destination: `127.0.0.1:${s.port}` } },
    });
    const info = await send(r.port, { to: 'alice@example.net', text: 'Hello' });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: .* delivered to destination/);
    expect(s.messages()[0]).toContain('Hello');
  });

  it('forwards clean mail unchanged apart from the added headers, 250 only after the destination accepted', async () => {
    const { port, sink: s, relay: r } = await setup();
    const info = await send(port, {
      to: 'alice@customer.test',
      text: 'Hello Alice\n.leading dot line\n..two dots\n',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: .* delivered to destination/);
    const [msg] = s.messages();
    expect(msg).toMatch(
      /Received: from client\.test \(.*\[127\.0\.0\.1\]\)\r?\n\tby relay\.test with ESMTP id \S+\r?\n\tfor <alice@customer\.test>; /,
    );
    expect(msg).toContain('Hello Alice');
    expect(msg).toMatch(/\r?\n\.leading dot line\r?\n\.\.two dots/);
    expect(r.stats.accepted).toBe(1);
  });

  it('rejects GTUBE with 554 through the built-in rules and delivers nothing', async () => {
    const { port, sink: s } = await setup();
    await expect(send(port, { to: 'alice@customer.test', text: `spam ${GTUBE}` })).rejects.toMatchObject({
      responseCode: 554,
    });
    await sleep(50);
    expect(s.messages()).toEqual([]);
  });

  it('tags instead of rejecting for a domain in monitor mode', async () => {
    const { port, sink: s } = await setup();
    await send(port, { to: 'bob@newcustomer.test', text: `spam ${GTUBE}` });
    expect(s.messages()[0]).toContain('X-MEF-Monitor: would reject');
  });

  it('refuses recipients of domains it does not serve (no open relay)', async () => {
    const { port } = await setup();
    await expect(send(port, { to: 'someone@elsewhere.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 550,
    });
  });

  it('answers 451 at RCPT when the destination is down, so the sender retries', async () => {
    const { port } = await setup();
    await expect(send(port, { to: 'carol@other.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
  });

  it('passes a destination tempfail at the final dot to the sender as 451', async () => {
    const { port, relay: r } = await setup(['-r', '.']);
    await expect(send(port, { to: 'alice@customer.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
    expect(r.stats.accepted).toBe(0);
  });

  it('passes a destination hard failure at the final dot to the sender as 5xx', async () => {
    const { port } = await setup(['-f', '.']);
    const err = (await send(port, { to: 'alice@customer.test', text: 'hi' }).catch((e: unknown) => e)) as {
      responseCode: number;
    };
    expect(Math.floor(err.responseCode / 100)).toBe(5);
  });

  it('answers 451 when the destination drops the connection after the message', async () => {
    const { port } = await setup(['-q', '.']);
    await expect(send(port, { to: 'alice@customer.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
  });

  it('passes the destination refusing a recipient at RCPT through to the sender', async () => {
    const { port } = await setup(['-f', 'RCPT']);
    const err = (await send(port, { to: 'nobody@customer.test', text: 'hi' }).catch((e: unknown) => e)) as {
      responseCode: number;
    };
    expect(Math.floor(err.responseCode / 100)).toBe(5);
  });

  it('sends recipients of another domain back for a separate transaction (452 4.5.3)', async () => {
    const { port, sink: s } = await setup();
    const info = await send(port, { to: ['alice@customer.test', 'carol@other.test'], text: 'hi' });
    expect(info.accepted).toEqual(['alice@customer.test']);
    expect(info.rejected).toEqual(['carol@other.test']);
    expect(s.messages()).toHaveLength(1);
  });

  it('relays outbound mail from an allowed network to the smarthost', async () => {
    const smarthost = await sink();
    const { port } = await setup([], {
      outbound: { networks: ['127.0.0.0/8'], smarthost: `127.0.0.1:${smarthost.port}` },
    });
    await send(port, { from: 'alice@customer.test', to: 'friend@elsewhere.test', text: 'outgoing' });
    expect(smarthost.messages()[0]).toContain('outgoing');
  });

  it('reports each finished transaction with metadata only', async () => {
    const s = await sink();
    const records: unknown[] = [];
    const r = await relay(
      { domains: { 'customer.test': { destination: `127.0.0.1:${s.port}` } } },
      {},
      { onTransaction: (rec) => records.push(rec) },
    );
    await send(r.port, { to: 'alice@customer.test', text: 'Hello' });
    expect(records).toEqual([
      expect.objectContaining({
        client: '127.0.0.1',
        helo: 'client.test',
        sender: 'sender@example.test',
        recipients: ['alice@customer.test'],
        domain: 'customer.test',
        disposition: 'accept',
        direction: 'inbound',
        destinationReply: expect.stringMatching(/^250 /),
      }),
    ]);
  });
});
