import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../src/index.js';
import { Dialog } from './support/dialog.js';
import { onCleanup, relay, sink, useCleanup } from './support/harness.js';
import { selfSignedCert, startClamd } from './support/servers.js';

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
