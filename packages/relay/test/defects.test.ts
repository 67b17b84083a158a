import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseRelayConfig, staticDomains } from '../src/index.js';
import { Dialog, message, startTransaction } from './support/dialog.js';
import { fakeDestination, ordinary } from './support/fake-destination.js';
import { GTUBE, onCleanup, relay, send, sink, slowStage, useCleanup } from './support/harness.js';

useCleanup();

/** Sends DATA with `text` and returns the reply to the final dot. */
async function data(d: Dialog, text: string, ms?: number): Promise<string> {
  const go = await d.cmd('DATA');
  if (!go.startsWith('354')) return go;
  d.write(`${text.replace(/\r?\n/g, '\r\n')}\r\n.\r\n`);
  return d.reply(ms);
}

describe('defects of the example relay, fixed', () => {
  it('never reuses an onward connection to another destination (misrouting)', async () => {
    const a = await sink(['-f', 'RCPT']);
    const b = await sink();
    const { port } = await relay({
      domains: {
        'a.test': { destination: `127.0.0.1:${a.port}` },
        'b.test': { destination: `127.0.0.1:${b.port}` },
      },
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<nouser@a.test>')).toMatch(/^5/);
    expect(await d.cmd('RCPT TO:<victim@b.test>')).toMatch(/^250/);
    expect(await data(d, message('for b', 'to the victim'))).toMatch(/^250/);
    d.close();
    expect(a.messages()).toEqual([]);
    expect(b.messages()).toHaveLength(1);
    expect(b.messages()[0]).toContain('victim@b.test');
  });

  it('takes the policy from the domain the transaction was accepted for, not the first recipient tried', async () => {
    const refusing = await sink(['-f', 'RCPT']);
    const strict = await sink();
    const { port } = await relay({
      domains: {
        'monitored.test': { destination: `127.0.0.1:${refusing.port}`, monitor: true },
        'strict.test': { destination: `127.0.0.1:${strict.port}` },
      },
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@monitored.test>')).toMatch(/^5/);
    expect(await d.cmd('RCPT TO:<y@strict.test>')).toMatch(/^250/);
    expect(await data(d, message('spam', GTUBE))).toMatch(/^554/);
    d.close();
    expect(strict.messages()).toEqual([]);
  });

  it('reads destination replies in step: an extra reply fails the transaction, never a false 250', async () => {
    const fake = await fakeDestination((line) =>
      /^RCPT/i.test(line) ? '250 ok\r\n250 ok\r\n' : ordinary(line),
    );
    onCleanup(() => fake.stop());
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${fake.port}` } } });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('hi', 'body must not be sent'))).toMatch(/^4/);
    d.close();
    expect(fake.body()).not.toContain('body must not be sent');
  });

  it('keeps the onward session alive with NOOP while a slow sender uploads', async () => {
    // smtp-sink -t 2 drops a session idle for 2 s; the sender takes 5 s.
    const s = await sink(['-t', '2']);
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      destinationKeepalive: 400,
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    for (let i = 0; i < 10; i++) {
      d.write(`X-Slow-${i}: yes\r\n`);
      await sleep(500);
    }
    d.write('Subject: slow\r\n\r\nslowly\r\n.\r\n');
    expect(await d.reply()).toMatch(/^250/);
    d.close();
    expect(s.messages()[0]).toContain('slowly');
  });

  it('without the keep-alive the same slow upload fails with 4xx (the test above is a real one)', async () => {
    const s = await sink(['-t', '2']);
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      destinationKeepalive: 60_000,
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    await sleep(3_500);
    expect(await data(d, message('slow', 'slowly'))).toMatch(/^4/);
    d.close();
  });

  it('validates outbound.networks with the CIDR helper: out-of-range and garbage prefixes are refused', () => {
    for (const bad of ['127.0.0.0/33', '127.0.0.0/-1', '127.0.0.2/abc', '10.0.0.0/']) {
      expect(() =>
        parseRelayConfig({ relay: { outbound: { networks: [bad], smarthost: '127.0.0.1:25' } } }),
      ).toThrow(/relay\.outbound\.networks\.0: .*CIDR/);
    }
    expect(() =>
      parseRelayConfig({
        relay: { outbound: { networks: ['127.0.0.0/8', '::1/128'], smarthost: '127.0.0.1:25' } },
      }),
    ).not.toThrow();
  });

  it('refuses sender-specified routing (% and !) like Postfix does', async () => {
    const s = await sink();
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x%other.test@a.test>')).toMatch(/^550 5\.7\.1/);
    expect(await d.cmd('RCPT TO:<other.test!x@a.test>')).toMatch(/^550 5\.7\.1/);
    d.close();
  });

  it('looks domains up in a Map: object built-ins are unknown domains', async () => {
    const { port } = await relay({ domains: {} });
    const d = await startTransaction(port);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'constructor.test']) {
      // smtp-server refuses a dotless domain as bad syntax (501); either way a 5xx, never a 451.
      expect(await d.cmd(`RCPT TO:<x@${name}>`)).toMatch(/^5(01|50) /);
    }
    d.close();
    const source = staticDomains({ 'a.test': { destination: '127.0.0.1:25' } });
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf'])
      expect(source.get(name)).toBeUndefined();
    expect(source.get('A.TEST')?.destination).toBe('127.0.0.1:25');
  });

  it('limits connections', async () => {
    const { port } = await relay({ domains: {}, limits: { connections: 2 } });
    const held = [await Dialog.open(port), await Dialog.open(port)];
    for (const h of held) expect(await h.reply()).toMatch(/^220/);
    const third = await Dialog.open(port);
    expect(await third.reply()).toMatch(/^421/);
    for (const h of [...held, third]) h.close();
  });

  it('limits recipients per message', async () => {
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      limits: { recipients: 2 },
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<a@a.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<b@a.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<c@a.test>')).toMatch(/^452 4\.5\.3/);
    d.close();
  });

  it('drops a slowloris that trickles a command line byte by byte', async () => {
    const { port } = await relay({ domains: {}, limits: { commandTime: 600 } });
    const d = await Dialog.open(port);
    expect(await d.reply()).toMatch(/^220/);
    const started = Date.now();
    for (const ch of 'EHLO slow.client.test') {
      if (d.closed) break;
      d.write(ch);
      await sleep(150);
    }
    expect(await d.reply(3_000)).toMatch(/^421|\(closed\)/);
    await sleep(100);
    expect(d.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('ends a session that lasts longer than the session limit', async () => {
    const { port } = await relay({ domains: {}, limits: { sessionTime: 1_000, commandTime: 5_000 } });
    const d = await Dialog.open(port);
    expect(await d.reply()).toMatch(/^220/);
    let last = '';
    for (let i = 0; i < 20 && !d.closed; i++) {
      last = await d.cmd('NOOP', 2_000);
      if (!last.startsWith('250')) break;
      await sleep(200);
    }
    await sleep(100);
    expect(d.closed || /^421/.test(last)).toBe(true);
  });

  it('gives up on a destination that stops reading (write timeout) and answers 4xx', async () => {
    let stoppedReading = 0;
    const fake = await fakeDestination((line, socket) => {
      if (/^DATA/i.test(line)) {
        socket.pause();
        stoppedReading = Date.now();
        return '354 go ahead\r\n';
      }
      return ordinary(line);
    });
    onCleanup(() => fake.stop());
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${fake.port}` } },
      destinationTimeout: 1_000,
    });
    const big = 'x'.repeat(76).concat('\n').repeat(80_000); // about 6 MB, more than the socket buffers hold
    await expect(send(port, { to: 'x@a.test', text: big })).rejects.toMatchObject({ responseCode: 451 });
    // Measured from the moment the destination stopped reading (the upload and the scan before
    // it take as long as the machine's load makes them): the buffers fill, then 1 s, then 451.
    expect(stoppedReading).toBeGreaterThan(0);
    expect(Date.now() - stoppedReading).toBeLessThan(20_000);
  });

  it('refuses a message that has looped (too many Received fields) with 554 5.4.6', async () => {
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      limits: { maxHops: 5 },
    });
    const received = Array.from(
      { length: 6 },
      (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Mon, 30 Nov 2026 05:00:00 +0000\r\n`,
    ).join('');
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, `${received}${message('loop', 'again')}`)).toMatch(/^554 5\.4\.6/);
    d.close();
    expect(s.messages().filter((m) => m.includes('again'))).toEqual([]);
  });

  it('removes the temporary copy as soon as a sender drops mid-DATA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mef-relay-tmp-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      tempDir: dir,
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    d.write(`Subject: big\r\n\r\n${'y'.repeat(99).concat('\r\n').repeat(30_000)}`); // 3 MB: spilled to a file
    for (let i = 0; i < 50 && readdirSync(dir).length === 0; i++) await sleep(50);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    d.close();
    for (let i = 0; i < 40 && readdirSync(dir).length > 0; i++) await sleep(50);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('drains on close: a transaction in flight gets its 250, new connections get 421', async () => {
    const s = await sink();
    const { port, relay: r } = await relay(
      { domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } },
      {},
      { plugins: [slowStage(800)] },
    );
    const sending = send(port, { to: 'x@a.test', text: 'in flight' });
    await sleep(400);
    const closing = r.close();
    await sleep(50);
    const late = await Dialog.open(port).catch(() => undefined);
    const lateReply = late ? await late.reply(3_000) : '(refused)';
    late?.close();
    const info = await sending;
    await closing;
    expect(info.response).toMatch(/^250/);
    expect(s.messages()[0]).toContain('in flight');
    expect(lateReply).toMatch(/^421|\(refused\)|\(closed\)/);
  });

  it('removes sender-supplied X-MEF-*, X-Spam and X-Virus-Status headers on inbound mail', async () => {
    const s = await sink();
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } });
    await send(port, {
      to: 'x@a.test',
      text: 'forged verdicts',
      headers: {
        'X-MEF-Verdict': 'clean',
        'X-Spam-Status': 'No, score=-100',
        'X-Spam': 'No',
        'X-Virus-Status': 'Clean',
        'X-Other': 'kept',
      },
    });
    const [msg] = s.messages();
    expect(msg).toContain('X-Other: kept');
    expect(msg).not.toMatch(/X-MEF-Verdict|X-Spam-Status|X-Spam: No|X-Virus-Status/);
  });

  it('answers 552 to a message over the size limit while it streams, and the session goes on', async () => {
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      maxMessageBytes: 100_000,
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('big', 'z'.repeat(99).concat('\n').repeat(3_000)))).toMatch(/^552/);
    expect(await d.cmd('MAIL FROM:<sender@example.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('small', 'fits'))).toMatch(/^250/);
    d.close();
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).toContain('fits');
  });
});
