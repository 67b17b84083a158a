import { setTimeout as sleep } from 'node:timers/promises';
import type { Plugin } from '@mef/core';
import { createTransport } from 'nodemailer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRelayConfig, Relay } from '../src/index.js';
import { freePort, type Sink, smtpSinkPath, startSink } from './smtp-sink.js';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const spamStage: Plugin = {
  name: 'gtube',
  async message(ctx) {
    const t = await ctx.message.text();
    if (t.text.includes(GTUBE)) ctx.findings.symbol('GTUBE', 1000);
    ctx.findings.addHeader('X-MEF-Scanned', 'yes');
  },
};

const failingScanner: Plugin = {
  name: 'scanner-down',
  onError: 'tempfail',
  message(ctx) {
    if (ctx.tx.recipients.some((r) => r.address.startsWith('scannerdown@'))) {
      ctx.findings.error('unavailable', 'MEF_TEST_DOWN', 'scanner refused the connection');
    }
  },
};

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

beforeAll(() => {
  if (!smtpSinkPath)
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
});

async function setup(
  sinkFlags: string[] = [],
  extra: Record<string, unknown> = {},
): Promise<{ relay: Relay; port: number; sink: Sink }> {
  const sink = await startSink(sinkFlags);
  cleanups.push(() => sink.stop());
  const config = parseRelayConfig({
    listen: { host: '127.0.0.1', port: 0 },
    hostname: 'relay.test',
    domains: {
      'customer.test': { destination: `127.0.0.1:${sink.port}` },
      'newcustomer.test': { destination: `127.0.0.1:${sink.port}`, monitor: true },
      'other.test': { destination: `127.0.0.1:${await freePort()}` },
    },
    destinationTimeout: 5000,
    ...extra,
  });
  const relay = new Relay({ config, plugins: [spamStage, failingScanner] });
  const port = await relay.listen(0);
  cleanups.push(() => relay.close());
  return { relay, port, sink };
}

function send(port: number, mail: { from?: string; to: string | string[]; subject?: string; text: string }) {
  const transport = createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'client.test',
  });
  return transport.sendMail({
    from: mail.from ?? 'sender@example.test',
    to: mail.to,
    subject: mail.subject ?? 'test',
    text: mail.text,
  });
}

describe('relay against a real destination (Postfix smtp-sink)', () => {
  it('forwards clean mail with the verdict headers and answers 250 only after the destination accepted', async () => {
    const { port, sink, relay } = await setup();
    const info = await send(port, {
      to: 'alice@customer.test',
      text: 'Hello Alice\n.leading dot line\n..two dots\n',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: .* delivered to destination/);
    const [msg] = sink.messages();
    expect(msg).toBeDefined();
    expect(msg).toContain('X-MEF-Scanned: yes');
    expect(msg).toContain('Hello Alice');
    expect(msg).toMatch(/\r?\n\.leading dot line\r?\n\.\.two dots/);
    expect(relay.stats.accepted).toBe(1);
  });

  it('rejects spam with 554 and delivers nothing', async () => {
    const { port, sink } = await setup();
    await expect(send(port, { to: 'alice@customer.test', text: `spam ${GTUBE}` })).rejects.toMatchObject({
      responseCode: 554,
    });
    await sleep(50);
    expect(sink.messages()).toEqual([]);
  });

  it('tags instead of rejecting for a domain in monitor mode', async () => {
    const { port, sink } = await setup();
    await send(port, { to: 'bob@newcustomer.test', text: `spam ${GTUBE}` });
    const [msg] = sink.messages();
    expect(msg).toContain('X-MEF-Monitor: would reject');
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
    const { port, relay } = await setup(['-r', '.']);
    await expect(send(port, { to: 'alice@customer.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
    expect(relay.stats.accepted).toBe(0);
  });

  it('passes a destination hard failure at the final dot to the sender as 5xx', async () => {
    const { port } = await setup(['-f', '.']);
    const err = await send(port, { to: 'alice@customer.test', text: 'hi' }).catch(
      (e: { responseCode: number }) => e,
    );
    expect(Math.floor((err as { responseCode: number }).responseCode / 100)).toBe(5);
  });

  it('answers 451 when the destination drops the connection after the message', async () => {
    const { port } = await setup(['-q', '.']);
    await expect(send(port, { to: 'alice@customer.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
  });

  it('passes the destination refusing a recipient at RCPT through to the sender', async () => {
    const { port } = await setup(['-f', 'RCPT']);
    const err = await send(port, { to: 'nobody@customer.test', text: 'hi' }).catch(
      (e: { responseCode: number }) => e,
    );
    expect(Math.floor((err as { responseCode: number }).responseCode / 100)).toBe(5);
  });

  it('tempfails when a scanner is down under a tempfail policy, and delivers nothing', async () => {
    const { port, sink } = await setup();
    await expect(send(port, { to: 'scannerdown@customer.test', text: 'hi' })).rejects.toMatchObject({
      responseCode: 451,
    });
    expect(sink.messages()).toEqual([]);
  });

  it('sends recipients of another destination back for a separate transaction (452)', async () => {
    const { port, sink } = await setup();
    const info = await send(port, { to: ['alice@customer.test', 'carol@other.test'], text: 'hi' });
    expect(info.accepted).toEqual(['alice@customer.test']);
    expect(info.rejected).toEqual(['carol@other.test']);
    expect(sink.messages()).toHaveLength(1);
  });

  it('relays outbound mail from an allowed network to the smarthost', async () => {
    const smarthost = await startSink();
    cleanups.push(() => smarthost.stop());
    const { port } = await setup([], {
      outbound: { networks: ['127.0.0.0/8'], smarthost: `127.0.0.1:${smarthost.port}` },
    });
    await send(port, { from: 'alice@customer.test', to: 'friend@elsewhere.test', text: 'outgoing' });
    expect(smarthost.messages()[0]).toContain('outgoing');
  });
});

describe('configuration', () => {
  it('names the key path, the expectation and the value of a bad setting', () => {
    expect(() => parseRelayConfig({ domains: { 'a.test': { destination: 'nowhere' } } })).toThrow(
      /domains\.a\.test\.destination: .*host:port.*found "nowhere"/,
    );
  });
});
