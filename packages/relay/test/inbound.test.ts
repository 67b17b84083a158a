import { rmSync } from 'node:fs';
import type { Plugin } from '@mef/core';
import { buildMessage } from '@mef/core/testing';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { describe, expect, it } from 'vitest';
import { Dialog, message, startTransaction } from './support/dialog.js';
import { onCleanup, relay, sink, useCleanup } from './support/harness.js';
import { selfSignedCert, startRbldnsd } from './support/servers.js';

useCleanup();

async function data(d: Dialog, text: string): Promise<string> {
  const go = await d.cmd('DATA');
  if (!go.startsWith('354')) return go;
  d.write(`${text}\r\n.\r\n`);
  return d.reply();
}

describe('inbound features', () => {
  it('refuses a client listed in a DNS list (real rbldnsd, explicit resolver) with 554', async () => {
    const dns = await startRbldnsd('zen.test', ['127.0.0.2']);
    onCleanup(() => dns.stop());
    const s = await sink();
    const { port } = await relay(
      { domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } },
      {
        rbl: {
          dns: [`127.0.0.1:${dns.port}`],
          lists: [{ zone: 'zen.test', preset: 'generic', score: 20, name: 'TEST_ZEN' }],
        },
      },
    );
    // 127.0.0.2 is the RFC 5782 test entry; the client connects from it.
    const listed = smtpClient(port, { localAddress: '127.0.0.2' });
    await expect(
      listed.sendMail({ from: 'a@example.test', to: 'x@a.test', subject: 's', text: 'hi' }),
    ).rejects.toMatchObject({
      responseCode: 554,
    });
    const clean = smtpClient(port, { localAddress: '127.0.0.1' });
    const info = await clean.sendMail({ from: 'a@example.test', to: 'x@a.test', subject: 's', text: 'hi' });
    expect(info.response).toMatch(/^250/);
  });

  it('delivers quarantined mail to the domain quarantine address at the destination, not to the recipient', async () => {
    const s = await sink();
    const { port, relay: r } = await relay(
      {
        domains: {
          'a.test': {
            destination: `127.0.0.1:${s.port}`,
            quarantine: 'quarantine@a.test',
            thresholds: { reject: null },
          },
        },
      },
      { attachments: { action: 'quarantine' }, rules: { enabled: false } },
    );
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<victim@a.test>')).toMatch(/^250/);
    const mime = buildMessage({
      from: 'a@example.test',
      to: 'victim@a.test',
      subject: 'invoice',
      text: 'see attached',
      attachments: [
        {
          filename: 'invoice.exe',
          contentType: 'application/octet-stream',
          content: Buffer.from(
            'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
            'base64',
          ),
        },
      ],
    }).toString('latin1');
    expect(await data(d, mime)).toMatch(/^250/);
    d.close();
    const [msg] = s.messages();
    expect(msg).toContain('quarantine@a.test');
    expect(msg).not.toMatch(/RCPT.*victim@a\.test|X-Rcpt.*victim/i);
    expect(r.stats.quarantined).toBe(1);
  });

  it('offers STARTTLS inbound with the configured certificate, and says ESMTPS in Received', async () => {
    const tls = selfSignedCert();
    onCleanup(async () => rmSync(tls.dir, { recursive: true, force: true }));
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      tls: { key: tls.key, cert: tls.cert },
    });
    const t = smtpClient(port, { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    const info = await t.sendMail({ from: 'a@example.test', to: 'x@a.test', subject: 's', text: 'over tls' });
    expect(info.response).toMatch(/^250/);
    expect(s.messages()[0]).toMatch(/by relay\.test with ESMTPS id/);
  });

  it('answers 4xx when TLS to the destination is required and the destination offers none', async () => {
    const s = await sink(); // smtp-sink offers no STARTTLS
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}`, tls: 'required' } },
    });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^451 4\.4\.1 .*STARTTLS/);
    d.close();
  });

  it('uses STARTTLS toward a destination that offers it, opportunistically (a self-signed certificate is not verified)', async () => {
    const tls = selfSignedCert();
    onCleanup(async () => rmSync(tls.dir, { recursive: true, force: true }));
    const s = await sink();
    const second = await relay({
      hostname: 'mx2.test',
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      tls: { key: tls.key, cert: tls.cert },
    });
    const first = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${second.port}` } },
    });
    const d = await startTransaction(first.port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('tls', 'encrypted hop'))).toMatch(/^250/);
    d.close();
    expect(s.messages()[0]).toMatch(/by mx2\.test with ESMTPS id/);
    expect(s.messages()[0]).toMatch(/by relay\.test with ESMTP id/);
  });

  it('passes SMTPUTF8 and 8BITMIME on when the destination offers them, and only then', async () => {
    const s = await sink(['-v']); // smtp-sink offers 8BITMIME, not SMTPUTF8
    const seen: Record<string, string | true>[] = [];
    const spy: Plugin = {
      name: 'params-spy',
      mailFrom(ctx) {
        seen.push({ ...(ctx.tx.mailFrom?.params ?? {}) });
      },
    };
    // The second relay (smtp-server) offers both; it hands on to smtp-sink.
    const second = await relay(
      { hostname: 'mx2.test', domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } },
      {},
      { plugins: [spy] },
    );
    const first = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${second.port}` } } });
    const d = await Dialog.open(first.port);
    await d.reply();
    await d.cmd('EHLO client.test');
    expect(await d.cmd('MAIL FROM:<sender@example.test> BODY=8BITMIME SMTPUTF8')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('8bit', 'caf\u00e9'))).toMatch(/^250/);
    d.close();
    expect(seen).toEqual([{ BODY: '8BITMIME', SMTPUTF8: true }]);
    expect(s.log()).toMatch(/MAIL FROM:<sender@example\.test> BODY=8BITMIME\s*$/m);
  });
});
