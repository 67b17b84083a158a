/**
 * Pipelined commands toward the destination (RFC 2920): MAIL FROM and the first RCPT TO leave in
 * one write when the destination offers PIPELINING, and their replies are read strictly in step
 * (a refused RCPT or a refused MAIL inside the group must not shift any later reply); with a
 * destination that does not offer it, one command at a time. The destinations are real: a
 * Postfix smtpd that announces PIPELINING and refuses some senders and recipients, and smtp-sink
 * with `-p` (no PIPELINING). What goes over the wire is seen through a recording TCP relay in
 * front of the real server (it passes every byte on unchanged, in both directions).
 */
import { createServer, connect as netConnect, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PostfixServer, type SinkServer, startPostfix, startSink } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpClient } from '../src/smtp-client.js';
import { type Dialog, message, startTransaction } from './support/dialog.js';
import { onCleanup, relay, useCleanup } from './support/harness.js';

useCleanup();

let sinkServer: SinkServer;
/** Announces PIPELINING; refuses the sender refused@example.test and the recipient refused@a.test. */
let pipelining: PostfixServer;
/** smtp-sink without PIPELINING (`-p`). */
let plain: SinkServer;

beforeAll(async () => {
  sinkServer = await startSink();
  const common = { relayhost: `[127.0.0.1]:${sinkServer.port}`, relayDomains: ['a.test'] };
  pipelining = await startPostfix({
    ...common,
    hostname: 'pipelining.test',
    mainCf: [
      'smtpd_delay_reject = no',
      'smtpd_sender_restrictions = check_sender_access inline:{ refused@example.test=REJECT }',
      'smtpd_recipient_restrictions = check_recipient_access inline:{ refused@a.test=REJECT }',
    ],
  });
  plain = await startSink({ flags: ['-p'] });
}, 120_000);

afterAll(async () => {
  await pipelining?.stop();
  await plain?.stop();
  await sinkServer?.stop();
});

/**
 * A TCP relay on a free loopback port in front of `port` that passes every byte on unchanged and
 * records, in order, the first word of each line each side sent (`C MAIL`, `S 250`, ...).
 */
async function recorder(port: number): Promise<{ port: number; words: string[]; stop(): Promise<void> }> {
  const words: string[] = [];
  const note = (side: string, d: Buffer) => {
    for (const line of d.toString('latin1').split('\r\n'))
      if (line) words.push(`${side} ${line.split(/[ :-]/)[0]}`);
  };
  const server: Server = createServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port });
    client.on('data', (d: Buffer) => {
      note('C', d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      note('S', d);
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    words,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What came right after the first `C MAIL` the recorder saw. */
function afterMail(words: readonly string[]): string | undefined {
  return words[words.indexOf('C MAIL') + 1];
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

function sinkHas(text: string): Promise<boolean> {
  return waitFor(() => sinkServer.messages().some((m) => m.includes(text)), 20_000);
}

async function sendData(d: Dialog, text: string): Promise<string> {
  const go = await d.cmd('DATA');
  if (!go.startsWith('354')) return go;
  d.write(`${text}.\r\n`);
  return d.reply();
}

describe('the forward client, pipelined', () => {
  it('reads the replies of a pipelined group in step: refused RCPT, refused MAIL, then a delivery', async () => {
    const wire = await recorder(pipelining.port);
    onCleanup(() => wire.stop());
    const c = await SmtpClient.open({ host: '127.0.0.1', port: wire.port, name: 'relay.test' });
    try {
      expect(c.extensions.has('PIPELINING')).toBe(true);
      // MAIL accepted, RCPT refused in the same group.
      const a = await c.mailRcpt('s@example.test', {}, 'refused@a.test');
      // Sent as one group: RCPT went out before the reply to MAIL came back.
      expect(afterMail(wire.words)).toBe('C RCPT');
      expect(a.mail.code).toBe(250);
      expect(a.rcpt?.code).toBe(554);
      // The next command's reply is its own: no reply was left over or shifted.
      expect((await c.rcpt('x@a.test')).code).toBe(250);
      expect((await c.rset()).code).toBe(250);
      // MAIL refused: the RCPT of the group is answered 503 (no MAIL), read and not reported.
      const b = await c.mailRcpt('refused@example.test', {}, 'x@a.test');
      expect(b.mail.code).toBe(554);
      expect(b.rcpt).toBeUndefined();
      expect((await c.command('NOOP')).code).toBe(250);
      const ok = await c.mailRcpt('s@example.test', {}, 'x@a.test');
      expect([ok.mail.code, ok.rcpt?.code]).toEqual([250, 250]);
      const dot = await c.data(Readable.from([Buffer.from(message('pipelined client', 'client in step'))]));
      expect(dot.code).toBe(250);
      expect(c.usable).toBe(true);
    } finally {
      await c.quit();
    }
    expect(await sinkHas('client in step')).toBe(true);
  });

  it('sends one command at a time to a destination without PIPELINING', async () => {
    const wire = await recorder(plain.port);
    onCleanup(() => wire.stop());
    const c = await SmtpClient.open({ host: '127.0.0.1', port: wire.port, name: 'relay.test' });
    try {
      expect(c.extensions.has('PIPELINING')).toBe(false);
      const r = await c.mailRcpt('s@example.test', {}, 'x@a.test');
      expect([r.mail.code, r.rcpt?.code]).toEqual([250, 250]);
      // The reply to MAIL came back before RCPT went out.
      expect(afterMail(wire.words)).toBe('S 250');
    } finally {
      await c.quit();
    }
  });
});

describe('the relay, pipelining toward the destination', () => {
  it('gives the sender the destination answer of each command of a pipelined group', async () => {
    const wire = await recorder(pipelining.port);
    onCleanup(() => wire.stop());
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${wire.port}` } } });
    const d = await startTransaction(port);
    // The first RCPT goes out with MAIL in one group; the destination refuses the recipient.
    expect(await d.cmd('RCPT TO:<refused@a.test>')).toMatch(/^554 /);
    expect(afterMail(wire.words)).toBe('C RCPT');
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await sendData(d, message('first', 'after a refused rcpt'))).toMatch(
      /^250 .*delivered to destination/,
    );
    // A sender the destination refuses: the group's RCPT gets 503 there, which must not be
    // read as the answer to anything later.
    expect(await d.cmd('MAIL FROM:<refused@example.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^554 /);
    expect(await d.cmd('RSET')).toMatch(/^250/);
    expect(await d.cmd('MAIL FROM:<sender@example.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await sendData(d, message('third', 'after a refused sender'))).toMatch(
      /^250 .*delivered to destination/,
    );
    expect(await d.cmd('QUIT')).toMatch(/^221/);
    d.close();
    expect(await sinkHas('after a refused rcpt')).toBe(true);
    expect(await sinkHas('after a refused sender')).toBe(true);
    const first = sinkServer.messages().find((m) => m.includes('after a refused rcpt')) ?? '';
    expect(first).not.toContain('refused@a.test');
  });

  it('relays through a destination without PIPELINING without pipelining to it', async () => {
    const wire = await recorder(plain.port);
    onCleanup(() => wire.stop());
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${wire.port}` } } });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(afterMail(wire.words)).toBe('S 250');
    expect(await d.cmd('RCPT TO:<y@a.test>')).toMatch(/^250/);
    expect(await sendData(d, message('strict', 'one command at a time'))).toMatch(
      /^250 .*delivered to destination/,
    );
    d.close();
    expect(
      await waitFor(() => plain.messages().some((m) => m.includes('one command at a time')), 20_000),
    ).toBe(true);
  });
});
