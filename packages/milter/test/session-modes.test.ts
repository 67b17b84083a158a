import type { Plugin } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { GTUBE, spamRules } from '@mef/plugin-spam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionFlag,
  createMilterServer,
  type MilterServer,
  ProtocolFlag,
  splitStrings,
} from '../src/index.js';
import { connectFrame, frame, MtaClient, optneg } from './support/mta.js';

/** What Postfix 3.7 offers with `milter_protocol = 6`. */
const POSTFIX_ACTIONS = 0x1ff;
const POSTFIX_PROTOCOL = 0x1fffff;

/** Who the engine saw at MAIL FROM, per sender. */
const seen = new Map<string, { user: string | undefined; direction: string }>();

const policy: Plugin = {
  name: 'test-policy',
  mailFrom(ctx) {
    const from = ctx.tx.mailFrom?.address ?? '';
    seen.set(from, { user: ctx.tx.user, direction: ctx.tx.direction });
    if (from.startsWith('refused@'))
      ctx.findings.reject({ code: 550, enhanced: '5.7.1', lines: ['Sender refused'] });
  },
  rcptTo(ctx) {
    if (ctx.recipient.address.startsWith('blocked@')) {
      ctx.findings.reject({ code: 550, enhanced: '5.1.1', lines: ['No such user here'] });
    }
  },
};

let engine: Engine;
const servers: MilterServer[] = [];
const ports: Record<'each-command' | 'end-of-message', number> = { 'each-command': 0, 'end-of-message': 0 };

beforeAll(async () => {
  engine = createEngine({ limits: { maxMessageBytes: 1000 } })
    .use(spamRules())
    .use(policy);
  for (const replyAt of ['each-command', 'end-of-message'] as const) {
    const server = createMilterServer({ engine, replyAt });
    servers.push(server);
    ports[replyAt] = (await server.listen({ host: '127.0.0.1', port: 0 })) as number;
  }
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await engine.stop();
});

const names = (frames: { command: string }[]) => frames.map((f) => f.command).join('');
const text = (f: { data: Buffer } | undefined) => splitStrings(f?.data ?? Buffer.alloc(0));

function transaction(from: string, rcpts: string[], body: string, macros: Buffer[] = []): Buffer {
  return Buffer.concat([
    optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL),
    connectFrame('client.example.test', '192.0.2.1', 5555),
    frame('H', 'client.example.test'),
    ...macros,
    frame('M', `<${from}>`),
    ...rcpts.map((r) => frame('R', `<${r}>`)),
    frame('L', 'Subject', ' hello'),
    frame('N'),
    frame('B', body),
    frame('E'),
  ]);
}

describe('replyAt: end-of-message', () => {
  it('asks for no reply before end of message, and for DELRCPT', async () => {
    const mta = await MtaClient.open(ports['end-of-message']);
    mta.write(optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL));
    const [o] = await mta.take(1);
    expect(o?.data.readUInt32BE(4)).toBe(
      ActionFlag.ADDHDRS | ActionFlag.CHGHDRS | ActionFlag.QUARANTINE | ActionFlag.DELRCPT,
    );
    const nr = ProtocolFlag.NR_CONN | ProtocolFlag.NR_HELO | ProtocolFlag.NR_MAIL | ProtocolFlag.NR_RCPT;
    expect((o?.data.readUInt32BE(8) ?? 0) & (nr | ProtocolFlag.NR_BODY | ProtocolFlag.SKIP)).toBe(
      nr | ProtocolFlag.NR_BODY,
    );
    // DATA stays answered (no SMFIP_NODATA, no SMFIP_NR_DATA).
    expect((o?.data.readUInt32BE(8) ?? 0) & (ProtocolFlag.NODATA | ProtocolFlag.NR_DATA)).toBe(0);
    mta.close();
    // An MTA that cannot remove recipients gets its RCPT answered.
    const old = await MtaClient.open(ports['end-of-message']);
    old.write(optneg(6, ActionFlag.ADDHDRS, POSTFIX_PROTOCOL));
    const [o2] = await old.take(1);
    expect((o2?.data.readUInt32BE(8) ?? 0) & ProtocolFlag.NR_RCPT).toBe(0);
    old.close();
  });

  it('answers DATA at once, then GTUBE at end of message, as Postfix sends them', async () => {
    const mta = await MtaClient.open(ports['end-of-message']);
    mta.write(
      Buffer.concat([
        optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL),
        connectFrame('client.example.test', '192.0.2.1', 5555),
        frame('H', 'client.example.test'),
        frame('M', '<a@example.test>'),
        frame('R', '<b@example.test>'),
        frame('T'),
      ]),
    );
    expect(names(await mta.take(2))).toBe('Oc');
    mta.write(
      Buffer.concat([frame('L', 'Subject', ' hello'), frame('N'), frame('B', `${GTUBE}\r\n`), frame('E')]),
    );
    const [verdict] = await mta.take(1);
    expect(verdict?.command).toBe('y');
    expect(text(verdict)[0]).toMatch(/^554 5\.7\.1 Message rejected as spam/);
    mta.close();
  });

  it('answers once, at end of message: GTUBE refused', async () => {
    const mta = await MtaClient.open(ports['end-of-message']);
    mta.write(transaction('a@example.test', ['b@example.test'], `${GTUBE}\r\n`));
    const replies = await mta.take(2);
    expect(names(replies)).toBe('Oy');
    expect(text(replies[1])[0]).toMatch(/^554 5\.7\.1 Message rejected as spam/);
    mta.close();
  });

  it('removes a refused recipient among accepted ones with DELRCPT, as the MTA gave it', async () => {
    const mta = await MtaClient.open(ports['end-of-message']);
    mta.write(transaction('a@example.test', ['ok@example.test', 'blocked@example.test'], 'clean\r\n'));
    const replies = await mta.take(3);
    expect(names(replies)).toBe('O-c');
    expect(text(replies[1])).toEqual(['<blocked@example.test>']);
    mta.close();
  });

  it('gives a refusal found at MAIL, or at every RCPT, at end of message', async () => {
    const mta = await MtaClient.open(ports['end-of-message']);
    mta.write(transaction('refused@example.test', ['ok@example.test'], 'clean\r\n'));
    const r1 = await mta.take(2);
    expect(names(r1)).toBe('Oy');
    expect(text(r1[1])[0]).toMatch(/^550 5\.7\.1 Sender refused/);
    mta.close();
    const all = await MtaClient.open(ports['end-of-message']);
    all.write(transaction('a@example.test', ['blocked@example.test'], 'clean\r\n'));
    const r2 = await all.take(2);
    expect(names(r2)).toBe('Oy');
    expect(text(r2[1])[0]).toMatch(/^550 5\.1\.1 No such user here/);
    all.close();
  });
});

describe('replyAt: each-command', () => {
  it('answers a BODY chunk past the size limit with SKIP, then the limit verdict', async () => {
    const mta = await MtaClient.open(ports['each-command']);
    mta.write(transaction('a@example.test', ['b@example.test'], `${'x'.repeat(78)}\r\n`.repeat(30)));
    const replies = await mta.take(5);
    // O, mail, rcpt, SKIP for the body, the size verdict at end of message (no stage acts at
    // CONNECT or HELO here, so they get no reply: SMFIP_NR_CONN, SMFIP_NR_HELO).
    expect(names(replies)).toBe('Occsy');
    const proto = replies[0]?.data.readUInt32BE(8) ?? 0;
    expect(proto & ProtocolFlag.SKIP).toBe(ProtocolFlag.SKIP);
    expect(proto & (ProtocolFlag.NR_CONN | ProtocolFlag.NR_HELO)).toBe(
      ProtocolFlag.NR_CONN | ProtocolFlag.NR_HELO,
    );
    expect(proto & (ProtocolFlag.NR_MAIL | ProtocolFlag.NR_RCPT | ProtocolFlag.NR_BODY)).toBe(0);
    expect(text(replies[4])[0]).toMatch(/^552 /);
    mta.close();
  });

  it('tells the engine an authenticated client ({auth_authen}) sends outbound mail', async () => {
    const auth = frame('D', 'M{auth_authen}', 'alice@example.test', '{auth_type}', 'PLAIN');
    for (const [from, macros] of [
      ['authed@example.test', [auth]],
      ['anonymous@example.test', []],
    ] as const) {
      const mta = await MtaClient.open(ports['each-command']);
      mta.write(transaction(from, ['b@example.test'], 'clean\r\n', [...macros]));
      expect(names(await mta.take(5))).toBe('Occcc');
      mta.close();
    }
    expect(seen.get('authed@example.test')).toEqual({ user: 'alice@example.test', direction: 'outbound' });
    expect(seen.get('anonymous@example.test')).toEqual({ user: undefined, direction: 'inbound' });
  });
});
