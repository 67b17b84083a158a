import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { hashPassword, parseRelayConfig } from '../src/index.js';
import { Dialog } from './support/dialog.js';
import { onCleanup, relay, sink, useCleanup } from './support/harness.js';
import { selfSignedCert, startClamd, startRbldnsd } from './support/servers.js';

useCleanup();

const EICAR = ['X5O!P%@AP[4', '\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-TEST-FILE!', '$H+H*'].join(
  '',
);

async function submissionRelay(extra: Record<string, unknown> = {}, filters: Record<string, unknown> = {}) {
  const tls = selfSignedCert();
  onCleanup(async () => rmSync(tls.dir, { recursive: true, force: true }));
  const users = join(tls.dir, 'users');
  writeFileSync(users, `# user:hash\nalice:${await hashPassword('s3cret', { N: 1024 })}\n`);
  const smarthost = await sink();
  const r = await relay(
    {
      domains: {},
      tls: { key: tls.key, cert: tls.cert },
      submission: {
        listen: [
          { host: '127.0.0.1', port: 0 },
          { host: '127.0.0.1', port: 0, secure: true },
        ],
        users,
        smarthost: `127.0.0.1:${smarthost.port}`,
        ...extra,
      },
    },
    filters,
  );
  const [starttls = 0, implicit = 0] = r.relay.ports?.submission ?? [];
  return { ...r, starttls, implicit, smarthost };
}

function client(port: number, secure: boolean, auth?: { user: string; pass: string; method?: string }) {
  return createTransport({
    host: '127.0.0.1',
    port,
    secure,
    requireTLS: !secure,
    tls: { rejectUnauthorized: false },
    name: 'customer.test',
    ...(auth ? { auth: { user: auth.user, pass: auth.pass }, authMethod: auth.method ?? 'PLAIN' } : {}),
  });
}

const mail = {
  from: 'alice@customer.test',
  to: 'friend@elsewhere.test',
  subject: 'out',
  text: 'outgoing mail',
};

describe('submission listeners (587 STARTTLS, 465 implicit TLS)', () => {
  it('needs exactly one next hop: a smarthost or MX delivery', () => {
    const listen = [{ host: '127.0.0.1', port: 0 }];
    expect(() => parseRelayConfig({ relay: { submission: { listen } } })).toThrow(
      /relay\.submission: exactly one of smarthost and mx/,
    );
    expect(() =>
      parseRelayConfig({
        relay: { submission: { listen, smarthost: '127.0.0.1:25', mx: { dns: ['127.0.0.1:53'] } } },
      }),
    ).toThrow(/exactly one/);
  });

  it('relays after AUTH PLAIN over STARTTLS, and AUTH LOGIN over implicit TLS, to the smarthost', async () => {
    const { starttls, implicit, smarthost } = await submissionRelay();
    const a = await client(starttls, false, { user: 'alice', pass: 's3cret' }).sendMail(mail);
    expect(a.response).toMatch(/^250/);
    const b = await client(implicit, true, { user: 'alice', pass: 's3cret', method: 'LOGIN' }).sendMail(mail);
    expect(b.response).toMatch(/^250/);
    expect(smarthost.messages()).toHaveLength(2);
    expect(smarthost.messages()[0]).toMatch(/with ESMTPSA id/);
  });

  it('answers 530 without AUTH, 535 to a wrong password, and refuses AUTH before STARTTLS', async () => {
    const { starttls } = await submissionRelay();
    await expect(client(starttls, false).sendMail(mail)).rejects.toMatchObject({ responseCode: 530 });
    await expect(
      client(starttls, false, { user: 'alice', pass: 'wrong' }).sendMail(mail),
    ).rejects.toMatchObject({ responseCode: 535 });
    const d = await Dialog.open(starttls);
    await d.reply();
    await d.cmd('EHLO customer.test');
    expect(await d.cmd(`AUTH PLAIN ${Buffer.from('\0alice\0s3cret').toString('base64')}`)).toMatch(/^5/);
    d.close();
  });

  it('never takes a failed AUTH for a login (smtp-server leaves user false): still 530', async () => {
    const { starttls, smarthost } = await submissionRelay();
    const d = await Dialog.open(starttls);
    await d.reply();
    await d.cmd('EHLO customer.test');
    // Plain text: AUTH is refused, and MAIL still needs it.
    expect(await d.cmd(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}`)).toMatch(/^5/);
    expect(await d.cmd('MAIL FROM:<alice@customer.test>')).toMatch(/^530/);
    d.close();
    expect(smarthost.messages()).toEqual([]);
  });

  it('relays without AUTH from the configured client networks', async () => {
    const { starttls, smarthost } = await submissionRelay({ networks: ['127.0.0.0/8'] });
    const info = await client(starttls, false).sendMail(mail);
    expect(info.response).toMatch(/^250/);
    expect(smarthost.messages()).toHaveLength(1);
  });

  it("delivers to the recipient domain's MX through the explicit resolver (real rbldnsd), and splits next hops with 452", async () => {
    const tls = selfSignedCert();
    onCleanup(async () => rmSync(tls.dir, { recursive: true, force: true }));
    const mx = await sink();
    const dns = await startRbldnsd(
      'dest.test',
      [],
      [
        '@ 3600 MX 10 mx1.dest.test',
        'mx1 3600 A 127.0.0.1',
        'other 3600 MX 10 mx2.dest.test',
        'mx2 3600 A 127.0.0.3',
      ],
    );
    onCleanup(() => dns.stop());
    const r = await relay({
      domains: {},
      tls: { key: tls.key, cert: tls.cert },
      submission: {
        listen: [{ host: '127.0.0.1', port: 0 }],
        networks: ['127.0.0.0/8'],
        mx: { dns: [`127.0.0.1:${dns.port}`], port: mx.port },
      },
    });
    const port = r.relay.ports?.submission[0] ?? 0;
    const info = await client(port, false).sendMail({
      ...mail,
      to: ['bob@dest.test', 'carol@other.dest.test'],
    });
    expect(info.accepted).toEqual(['bob@dest.test']);
    // other.dest.test has another MX (127.0.0.3): another next hop, another transaction.
    expect(info.rejected).toEqual(['carol@other.dest.test']);
    expect(mx.messages()).toHaveLength(1);
    expect(mx.messages()[0]).toContain('outgoing mail');
  });

  it('scans outgoing mail for viruses (real clamd): EICAR gets 554 and goes nowhere', async () => {
    const clamd = await startClamd();
    onCleanup(() => clamd.stop());
    const { starttls, smarthost } = await submissionRelay(
      {},
      { clamav: { hosts: [`127.0.0.1:${clamd.port}`] } },
    );
    await expect(
      client(starttls, false, { user: 'alice', pass: 's3cret' }).sendMail({
        ...mail,
        attachments: [{ filename: 'eicar.com', content: EICAR }],
      }),
    ).rejects.toMatchObject({ responseCode: 554 });
    expect(smarthost.messages().filter((m) => m.includes('EICAR'))).toEqual([]);
    const clean = await client(starttls, false, { user: 'alice', pass: 's3cret' }).sendMail(mail);
    expect(clean.response).toMatch(/^250/);
  });
});
