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

const tagger: Plugin = {
  name: 'tagger',
  async message(ctx) {
    await ctx.message.headers();
    ctx.findings.addHeader('X-Test', 'tagged');
  },
};

/** Envelope phases the engine ran, in order: a stage at each, so each command is answered. */
const heard: string[] = [];
const listener: Plugin = {
  name: 'listener',
  connect: () => void heard.push('connect'),
  helo: () => void heard.push('helo'),
  mailFrom: () => void heard.push('mailFrom'),
  rcptTo: () => void heard.push('rcptTo'),
};

/** What Postfix 3.7 offers with `milter_protocol = 6`. */
const POSTFIX_ACTIONS = 0x1ff;
const POSTFIX_PROTOCOL = 0x1fffff;

let engine: Engine;
let server: MilterServer;
let port: number;

beforeAll(async () => {
  // A size limit below Postfix's own: BODY chunks are answered, so SKIP stays possible.
  engine = createEngine({ limits: { maxMessageBytes: 1_000_000 } })
    .use(spamRules())
    .use(tagger)
    .use(listener);
  server = createMilterServer({ engine });
  port = (await server.listen({ host: '127.0.0.1', port: 0 })) as number;
});

afterAll(async () => {
  await server.close();
  await engine.stop();
});

function message(body: string): Buffer[] {
  return [
    frame('L', 'From', ' a@example.test'),
    frame('L', 'Subject', ' hello'),
    frame('N'),
    frame('B', `${body}\r\n`),
    frame('E'),
  ];
}

function envelope(): Buffer[] {
  return [
    optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL),
    Buffer.concat([frame('D', 'Cj', 'mx.test'), connectFrame('client.example.test', '192.0.2.1', 5555)]),
    frame('H', 'client.example.test'),
    frame('M', '<a@example.test>', 'SIZE=100'),
    frame('R', '<b@example.test>'),
  ];
}

const names = (frames: { command: string }[]) => frames.map((f) => f.command).join('');

describe('a milter session', () => {
  it('negotiates the flags it needs among those offered', async () => {
    const mta = await MtaClient.open(port);
    mta.write(optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL));
    const [o] = await mta.take(1);
    expect(o?.command).toBe('O');
    expect(o?.data.readUInt32BE(0)).toBe(6);
    expect(o?.data.readUInt32BE(4)).toBe(ActionFlag.ADDHDRS | ActionFlag.CHGHDRS | ActionFlag.QUARANTINE);
    const proto = o?.data.readUInt32BE(8) ?? 0;
    expect(proto & ProtocolFlag.NR_HDR).toBe(ProtocolFlag.NR_HDR);
    expect(proto & ProtocolFlag.HDR_LEADSPC).toBe(ProtocolFlag.HDR_LEADSPC);
    expect(proto & ProtocolFlag.NR_BODY).toBe(0);
    // DATA is sent and answered: its answer acknowledges the envelope (no delayed-ACK wait).
    expect(proto & (ProtocolFlag.NODATA | ProtocolFlag.NR_DATA)).toBe(0);
    mta.close();

    const old = await MtaClient.open(port);
    old.write(optneg(2, 0x3, 0x7f));
    const [o2] = await old.take(1);
    expect([o2?.data.readUInt32BE(0), o2?.data.readUInt32BE(4), o2?.data.readUInt32BE(8)]).toEqual([
      2, 0x1, 0,
    ]);
    old.close();
  });

  it('handles a whole transaction in one read and byte by byte alike', async () => {
    const wire = Buffer.concat([...envelope(), ...message('clean text')]);
    heard.length = 0;
    for (const split of [false, true]) {
      const mta = await MtaClient.open(port);
      if (split) for (let i = 0; i < wire.length; i++) mta.write(wire.subarray(i, i + 1));
      else mta.write(wire);
      // O, connect, helo, mail, rcpt, body; headers and EOH get no reply (NR_HDR, NR_EOH); then EOB.
      const replies = await mta.take(8);
      expect(names(replies)).toBe('Occccchc');
      const h = replies[6];
      expect(splitStrings(h?.data ?? Buffer.alloc(0))).toEqual(['X-Test', ' tagged']);
      mta.close();
    }
    expect(heard).toEqual(['connect', 'helo', 'mailFrom', 'rcptTo', 'connect', 'helo', 'mailFrom', 'rcptTo']);
  });

  it('rejects GTUBE at end of message with our SMTP reply', async () => {
    const mta = await MtaClient.open(port);
    mta.write(Buffer.concat([...envelope(), ...message(GTUBE)]));
    const replies = await mta.take(7);
    const last = replies[6];
    expect(last?.command).toBe('y');
    expect(splitStrings(last?.data ?? Buffer.alloc(0))[0]).toMatch(/^554 5\.7\.1 Message rejected as spam/);
    mta.close();
  });

  it('takes ABORT twice, a new transaction, QUIT_NC with a new connection, then QUIT', async () => {
    const mta = await MtaClient.open(port);
    mta.write(Buffer.concat(envelope()));
    expect(names(await mta.take(5))).toBe('Occcc');
    mta.write(
      Buffer.concat([frame('A'), frame('A'), frame('M', '<c@example.test>'), frame('R', '<d@example.test>')]),
    );
    expect(names(await mta.take(2))).toBe('cc');
    mta.write(Buffer.concat([...message('again'), frame('A')]));
    expect(names(await mta.take(3))).toBe('chc');
    mta.write(
      Buffer.concat([frame('K'), connectFrame('other.test', '192.0.2.9', 25), frame('H', 'other.test')]),
    );
    expect(names(await mta.take(2))).toBe('cc');
    mta.write(frame('Q'));
    await mta.take(1, 2000);
    expect(mta.closed).toBe(true);
  });

  it('makes no modification the MTA did not allow', async () => {
    const mta = await MtaClient.open(port);
    const [, ...rest] = envelope();
    mta.write(Buffer.concat([optneg(6, 0, POSTFIX_PROTOCOL), ...rest, ...message('clean')]));
    expect(names(await mta.take(7))).toBe('Occcccc');
    mta.close();
  });

  it('closes the connection on a frame the protocol does not allow', async () => {
    for (const bad of [Buffer.from([0, 0, 0, 0, 0x41]), frame('Z'), frame('H', 'before-connect')]) {
      const mta = await MtaClient.open(port);
      mta.write(Buffer.concat([optneg(6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL), bad]));
      await mta.take(2, 2000);
      expect(mta.closed).toBe(true);
    }
  });
});

describe('each-command with stages only at the message', () => {
  /** Adds the envelope it saw: the engine still hears the commands Postfix need not wait for. */
  const envelopeTag: Plugin = {
    name: 'envelope-tag',
    async message(ctx) {
      await ctx.message.headers();
      const { helo, mailFrom, recipients } = ctx.tx;
      ctx.findings.addHeader(
        'X-Envelope',
        `${helo} ${mailFrom?.address} ${recipients.map((r) => r.address)}`,
      );
    },
  };
  let quiet: Engine;
  let quietServer: MilterServer;
  let quietPort: number;

  beforeAll(async () => {
    quiet = createEngine().use(spamRules()).use(envelopeTag);
    quietServer = createMilterServer({ engine: quiet });
    quietPort = (await quietServer.listen({ host: '127.0.0.1', port: 0 })) as number;
  });

  afterAll(async () => {
    await quietServer.close();
    await quiet.stop();
  });

  it('asks for no reply before end of message, and still runs every phase', async () => {
    const mta = await MtaClient.open(quietPort);
    mta.write(Buffer.concat([...envelope(), ...message('clean text')]));
    // O, then only the end of message: no stage acts at CONNECT, HELO, MAIL or RCPT, and the
    // default size limit (64 MiB) is above Postfix's, so no BODY chunk needs an answer (SKIP).
    const replies = await mta.take(3);
    expect(names(replies)).toBe('Ohc');
    const proto = replies[0]?.data.readUInt32BE(8) ?? 0;
    const noReply =
      ProtocolFlag.NR_CONN |
      ProtocolFlag.NR_HELO |
      ProtocolFlag.NR_MAIL |
      ProtocolFlag.NR_RCPT |
      ProtocolFlag.NR_BODY;
    expect(proto & noReply).toBe(noReply);
    expect(proto & ProtocolFlag.SKIP).toBe(0);
    expect(splitStrings(replies[1]?.data ?? Buffer.alloc(0))).toEqual([
      'X-Envelope',
      ' client.example.test a@example.test b@example.test',
    ]);
    mta.close();
  });

  it('still refuses GTUBE at end of message', async () => {
    const mta = await MtaClient.open(quietPort);
    mta.write(Buffer.concat([...envelope(), ...message(GTUBE)]));
    const replies = await mta.take(2);
    expect(names(replies)).toBe('Oy');
    expect(splitStrings(replies[1]?.data ?? Buffer.alloc(0))[0]).toMatch(/^554 5\.7\.1 /);
    mta.close();
  });
});
