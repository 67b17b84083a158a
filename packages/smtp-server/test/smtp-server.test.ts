import type { Plugin } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { bannedAttachments } from '@mef/plugin-antivirus';
import { GTUBE, spamRules } from '@mef/plugin-spam';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../examples/server.js';
import { useEngine } from '../src/index.js';

const delivered: Buffer[] = [];
let example: { port: number; stop: () => Promise<void> };

beforeAll(async () => {
  example = await startServer(0, (m) => delivered.push(m));
});
afterAll(async () => {
  await example.stop();
});

function send(
  port: number,
  mail: {
    to?: string;
    subject?: string;
    text: string;
    name?: string;
    attachments?: { filename: string; content: string }[];
  },
) {
  return smtpClient(port, { name: mail.name ?? 'client.test' }).sendMail({
    from: 'sender@example.test',
    to: mail.to ?? 'user@example.test',
    subject: mail.subject ?? 'hello',
    text: mail.text,
    ...(mail.attachments ? { attachments: mail.attachments } : {}),
  });
}

describe('README example (examples/server.ts): smtp-server with nodemailer as the client', () => {
  it('rejects GTUBE with MEF reply', async () => {
    await expect(send(example.port, { text: `spam ${GTUBE}` })).rejects.toMatchObject({
      responseCode: 554,
      response: expect.stringMatching(/^554 5\.7\.1 Message rejected as spam/),
    });
  });

  it('rejects a banned attachment', async () => {
    await expect(
      send(example.port, {
        text: 'see attached',
        attachments: [{ filename: 'invoice.pdf.exe', content: 'MZ' }],
      }),
    ).rejects.toMatchObject({ responseCode: expect.any(Number), response: expect.stringMatching(/^5\d\d /) });
  });

  it('accepts clean mail and hands it on with the header changes', async () => {
    const marker = `clean-${Date.now()}`;
    const info = await send(example.port, { subject: marker, text: 'a clean message' });
    expect(info.response).toMatch(/^250 /);
    const msg = delivered.map((b) => b.toString('latin1')).find((m) => m.includes(marker));
    expect(msg).toMatch(/a clean message/);
  });
});

describe('useEngine', () => {
  const seen: string[] = [];
  const heloPolicy: Plugin = {
    name: 'helo-policy',
    helo(ctx) {
      seen.push(ctx.tx.helo ?? '');
      if (ctx.tx.helo === 'bad.helo.test')
        ctx.findings.reject({ code: 550, enhanced: '5.7.1', lines: ['Bad HELO'] });
    },
    rcptTo(ctx) {
      if (ctx.recipient.address.startsWith('blocked@')) {
        ctx.findings.reject({ code: 550, enhanced: '5.1.1', lines: ['No such user'] });
      }
    },
  };
  let engine: Engine;
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    engine = createEngine().use(spamRules()).use(bannedAttachments()).use(heloPolicy);
    await engine.start();
    server = useEngine(
      new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], hideENHANCEDSTATUSCODES: false }),
      engine,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.stop();
  });

  it('runs the HELO phase at the first MAIL FROM and refuses a bad HELO', async () => {
    await send(port, { text: 'hi', name: 'good.helo.test' });
    expect(seen).toContain('good.helo.test');
    await expect(send(port, { text: 'hi', name: 'bad.helo.test' })).rejects.toMatchObject({
      response: expect.stringMatching(/^550 5\.\d\.\d Bad HELO$/),
    });
  });

  it('refuses one recipient and delivers to the other', async () => {
    const info = await send(port, { to: 'ok@example.test, blocked@example.test', text: 'hi' });
    expect(info.accepted).toEqual(['ok@example.test']);
    expect(info.rejected).toEqual(['blocked@example.test']);
  });

  it('leaves the enhanced code to smtp-server when its own are on, without doubling', async () => {
    const err = await send(port, { text: GTUBE }).catch((e: { response: string }) => e);
    expect(err).toMatchObject({ response: expect.stringMatching(/^554 5\.\d\.\d Message rejected as spam/) });
    expect((err as { response: string }).response).not.toMatch(/\d\.\d\.\d \d\.\d\.\d/);
  });
});

describe('useEngine with SMTP AUTH', () => {
  const seen: { user: string | undefined; direction: string }[] = [];
  let engine: Engine;
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    engine = createEngine().use({
      name: 'who',
      mailFrom: (ctx) => {
        seen.push({ user: ctx.tx.user, direction: ctx.tx.direction });
      },
    });
    await engine.start();
    server = useEngine(
      new SMTPServer({
        authOptional: true,
        allowInsecureAuth: true,
        disabledCommands: ['STARTTLS'],
        onAuth: (auth, _session, callback) =>
          auth.username === 'alice' && auth.password === 'secret'
            ? callback(null, { user: 'alice' })
            : callback(new Error('Invalid username or password')),
      }),
      engine,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.stop();
  });

  const transport = (auth?: { user: string; pass: string }) => smtpClient(port, auth ? { auth } : {});
  const mail = { from: 'alice@example.test', to: 'bob@example.test', subject: 'hi', text: 'hi' };

  it('gives the engine the user your onAuth accepted, with the outbound direction', async () => {
    await transport({ user: 'alice', pass: 'secret' }).sendMail(mail);
    expect(seen.at(-1)).toEqual({ user: 'alice', direction: 'outbound' });
  });

  it('leaves an unauthenticated client inbound, and a failed AUTH changes nothing', async () => {
    await transport().sendMail(mail);
    expect(seen.at(-1)).toEqual({ user: undefined, direction: 'inbound' });
    const before = seen.length;
    await expect(transport({ user: 'alice', pass: 'wrong' }).sendMail(mail)).rejects.toMatchObject({
      responseCode: 535,
    });
    expect(seen.length).toBe(before);
  });
});
