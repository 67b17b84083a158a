import { setTimeout as sleep } from 'node:timers/promises';
import type { Plugin } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { bannedAttachments, clamav } from '@mef/plugin-antivirus';
import { GTUBE, spamRules } from '@mef/plugin-spam';
import {
  type ClamdServer as Clamd,
  EICAR,
  eventually,
  freePort,
  type PostfixServer as Postfix,
  type SinkServer as Sink,
  smtpSource,
  startClamd,
  startPostfix,
  startSink,
  stopList,
  swaksTo as swaks,
  swaksAttach,
} from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMilterServer, type MilterServer } from '../src/index.js';

/** A stage of the test: a recipient policy, a score for a marked subject, a slow scan. */
const testPolicy: Plugin = {
  name: 'test-policy',
  rcptTo(ctx) {
    if (ctx.recipient.address.startsWith('blocked@')) {
      ctx.findings.reject({ code: 550, enhanced: '5.1.1', lines: ['No such user here'] });
    }
  },
  async message(ctx) {
    const headers = await ctx.message.headers();
    const subject = headers.get('subject') ?? '';
    if (subject.includes('score-seven')) ctx.findings.symbol('TEST_SEVEN', 7);
    if (subject.includes('slow')) await sleep(3500);
  },
};

let clamd: Clamd;
let sink: Sink;
let engine: Engine;
let milter: MilterServer;
let milterPort: number;
let postfix: Postfix;
const stops = stopList();

beforeAll(async () => {
  clamd = stops.add(await startClamd());
  sink = stops.add(await startSink());
  engine = createEngine({ stageTimeout: 10_000 })
    .use(spamRules())
    .use(bannedAttachments({ extensions: ['exe'], action: 'quarantine' }))
    .use(clamav({ hosts: [clamd.address] }))
    .use(testPolicy);
  milter = createMilterServer({ engine, progressInterval: 500 });
  milterPort = (await milter.listen({ host: '127.0.0.1', port: 0 })) as number;
  stops.defer(async () => {
    await milter.close();
    await engine.stop();
  });
  postfix = stops.add(
    await startPostfix({ relayhost: `[127.0.0.1]:${sink.port}`, milter: { port: milterPort } }),
  );
}, 60_000);

afterAll(() => stops.stopAll());

function delivered(marker: string): string | undefined {
  return sink.messages().find((m) => m.includes(marker));
}

describe('Postfix with smtpd_milters pointing at the MEF milter', () => {
  it('refuses GTUBE with our 5xx reply', async () => {
    const r = await swaks(postfix.port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
    expect(r.output).toMatch(/<\*\* 554 5\.7\.1 Message rejected as spam \(score \d+/);
    expect(r.status).not.toBe(0);
  });

  it('refuses EICAR found by clamd', async () => {
    const r = await swaks(postfix.port, ['--to', 'user@dest.test', ...swaksAttach('eicar.txt', EICAR)]);
    expect(r.output).toMatch(/<\*\* 5\d\d 5\.7\.\d .*Eicar-Test-Signature/i);
  });

  it('lets clean mail reach the sink', async () => {
    const marker = `clean-${Date.now()}`;
    const r = await swaks(postfix.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(() => delivered(marker), 10_000, 'the clean message at the sink');
    expect(msg).not.toMatch(/^X-Spam:/m);
  });

  it('adds X-Spam to a message over the add-header threshold', async () => {
    const marker = `score-seven-${Date.now()}`;
    const r = await swaks(postfix.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(() => delivered(marker), 10_000, 'the tagged message at the sink');
    expect(msg).toMatch(/^X-Spam: Yes\r?$/m);
  });

  it('rejects one recipient at RCPT and delivers to the others', async () => {
    const marker = `two-rcpts-${Date.now()}`;
    const r = await swaks(postfix.port, [
      '--to',
      'ok@dest.test,blocked@dest.test',
      '--header',
      `Subject: ${marker}`,
    ]);
    expect(r.output).toMatch(/<\*\* 550 5\.1\.1 No such user here/);
    const msg = await eventually(() => delivered(marker), 10_000, 'the message for the accepted recipient');
    expect(msg).toMatch(/^X-Rcpt-Args: <ok@dest\.test>/m);
    expect(msg).not.toMatch(/^X-Rcpt-Args: <blocked@dest\.test>/m);
  });

  it('quarantines a banned attachment into the hold queue', async () => {
    const before = postfix.held().length;
    // Plain text under a banned name: the name alone is the finding (no real-type match).
    const attachment = swaksAttach('setup.exe', 'plain text, not a program');
    const r = await swaks(postfix.port, ['--to', 'user@dest.test', ...attachment]);
    expect(r.status, r.output).toBe(0);
    await eventually(() => (postfix.held().length > before ? true : undefined), 10_000, 'a held message');
  });

  it('takes a load from smtp-source over several connections', async () => {
    const before = sink.messages().length;
    // Asynchronously: the milter answers from this same process.
    const r = await smtpSource(
      ['-s', '4', '-m', '20', '-f', 'load@source.test', '-t', 'user@dest.test'],
      postfix.port,
    );
    expect(r.status, r.output).toBe(0);
    await eventually(
      () => (sink.messages().length >= before + 20 ? true : undefined),
      20_000,
      '20 messages at the sink',
    );
  });
});

describe('Postfix and the milter under stress', () => {
  it('keeps Postfix waiting with PROGRESS while a scan outlasts milter_content_timeout', async () => {
    const slow = await startPostfix({
      relayhost: `[127.0.0.1]:${sink.port}`,
      milter: { port: milterPort, timeouts: { command: 2, content: 2 } },
    });
    try {
      const marker = `slow-${Date.now()}`;
      const r = await swaks(slow.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
      expect(r.status, `${r.output}\n${slow.log()}`).toBe(0);
      await eventually(() => delivered(marker), 10_000, 'the slow message at the sink');
    } finally {
      await slow.stop();
    }
  });

  it('applies milter_default_action when the milter is down', async () => {
    const dead = await freePort();
    const tempfail = await startPostfix({
      relayhost: `[127.0.0.1]:${sink.port}`,
      milter: { port: dead, defaultAction: 'tempfail' },
    });
    try {
      const r = await swaks(tempfail.port, ['--to', 'user@dest.test', '--body', 'hello']);
      expect(r.output).toMatch(/<\*\* 4\d\d /);
    } finally {
      await tempfail.stop();
    }
    const accept = await startPostfix({
      relayhost: `[127.0.0.1]:${sink.port}`,
      milter: { port: dead, defaultAction: 'accept' },
    });
    try {
      const marker = `milter-down-${Date.now()}`;
      const r = await swaks(accept.port, [
        '--to',
        'user@dest.test',
        '--header',
        `Subject: ${marker}`,
        '--body',
        GTUBE,
      ]);
      expect(r.status, r.output).toBe(0);
      await eventually(() => delivered(marker), 10_000, 'the unfiltered message at the sink');
    } finally {
      await accept.stop();
    }
  });
});
