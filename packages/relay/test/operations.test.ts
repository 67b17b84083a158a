import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Dialog } from './support/dialog.js';
import { relay, send, sink, useCleanup } from './support/harness.js';

useCleanup();

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('operations', () => {
  it('limits sessions at once from one address', async () => {
    const { port } = await relay({ domains: {}, limits: { perIpConnections: 2 } });
    const held = [await Dialog.open(port), await Dialog.open(port)];
    for (const h of held) expect(await h.reply()).toMatch(/^220/);
    const third = await Dialog.open(port);
    expect(await third.reply()).toMatch(/^421 .*Too many connections from your address/);
    held[0]?.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await Dialog.open(port);
    expect(await again.reply()).toMatch(/^220/);
    for (const h of [...held, third, again]) h.close();
  });

  it('limits new sessions per minute from one address', async () => {
    const { port } = await relay({ domains: {}, limits: { perIpRate: 3 } });
    const replies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await Dialog.open(port);
      replies.push(await d.reply());
      d.close();
    }
    expect(replies.slice(0, 3).every((r) => r.startsWith('220'))).toBe(true);
    expect(replies[3]).toMatch(/^421 .*per minute/);
  });

  it('serves Prometheus metrics and the scanners health over HTTP', async () => {
    const s = await sink();
    const { port, relay: r } = await relay(
      {
        domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
        metrics: { host: '127.0.0.1', port: 0 },
      },
      // A clamd that is not there: the health check says so.
      { clamav: { hosts: ['127.0.0.1:1'], onError: 'accept', scanTimeout: 500 } },
    );
    await send(port, { to: 'x@a.test', text: 'counted' });
    const metricsPort = r.ports?.metrics ?? 0;
    const m = await get(metricsPort, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/mef_relay_transactions_total\{outcome="accept",direction="inbound"\} 1/);
    expect(m.body).toMatch(/mef_relay_scan_seconds_count 1/);
    expect(m.body).toMatch(/mef_relay_scanner_errors_total\{stage="clamav"/);
    const h = await get(metricsPort, '/healthz');
    expect(h.status).toBe(503);
    expect(JSON.parse(h.body)).toMatchObject({ ok: false, scanners: { clamav: { ok: false } } });
    expect((await get(metricsPort, '/nothing')).status).toBe(404);
  });

  it('logs one JSON line per transaction with the times of scan and destination', async () => {
    const s = await sink();
    const lines: Record<string, unknown>[] = [];
    const { port } = await relay(
      { domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } },
      {},
      {
        log: { info: (obj) => lines.push(obj as Record<string, unknown>) },
      },
    );
    await send(port, { to: 'x@a.test', text: 'logged' });
    expect(lines).toEqual([
      expect.objectContaining({
        domain: 'a.test',
        disposition: 'accept',
        scanMs: expect.any(Number),
        afterLastByteMs: expect.any(Number),
        destinationMs: expect.any(Number),
      }),
    ]);
    // The scan's time after the last byte is a part of its time from the start of DATA.
    const times = lines[0] as { scanMs: number; afterLastByteMs: number };
    expect(times.afterLastByteMs).toBeGreaterThanOrEqual(0);
    expect(times.afterLastByteMs).toBeLessThanOrEqual(times.scanMs);
  });
});

describe('the greeting', () => {
  it('greets at once by default, and answers 421 to a client that talks first when greetingDelay is set', async () => {
    const fast = await relay({ domains: {} });
    const d = await Dialog.open(fast.port);
    const t0 = Date.now();
    expect(await d.reply()).toMatch(/^220/);
    expect(Date.now() - t0).toBeLessThan(90);
    d.close();
    const slow = await relay({ domains: {}, limits: { greetingDelay: 300 } });
    const early = await Dialog.open(slow.port);
    early.write('EHLO too.early\r\n');
    expect(await early.reply()).toMatch(/^421 .*talk too soon/);
    early.close();
  });
});
