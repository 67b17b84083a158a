/**
 * The real Postfix with SMTP AUTH (Cyrus SASL, users in a sasldb file) and the milter in both
 * reply modes: `{auth_authen}` reaches the engine, SKIP past the size limit, and
 * `end-of-message` answers (a refusal at end of DATA, a refused recipient removed).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, Plugin } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { GTUBE, spamRules } from '@mef/plugin-spam';
import {
  eventually,
  type PostfixServer as Postfix,
  type SinkServer as Sink,
  startPostfix,
  startSink,
  stopList,
  swaksTo as swaks,
  swaksAuth,
} from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMilterServer } from '../src/index.js';

/** Tags each message with who sent it as the engine saw it; refuses `blocked@` recipients. */
const policy: Plugin = {
  name: 'test-policy',
  rcptTo(ctx) {
    if (ctx.recipient.address.startsWith('blocked@')) {
      ctx.findings.reject({ code: 550, enhanced: '5.1.1', lines: ['No such user here'] });
    }
  },
  async message(ctx) {
    await ctx.message.headers();
    ctx.findings.addHeader('X-Test-User', ctx.tx.user ?? 'none');
    ctx.findings.addHeader('X-Test-Direction', ctx.tx.direction);
  },
};

/** Debug lines of the milter, to see SKIP happen. */
const lines: { obj: object; msg: string | undefined }[] = [];
const log: Logger = {
  debug: (obj, msg) => lines.push({ obj, msg }),
  info() {},
  warn() {},
  error() {},
};

/**
 * A sasldb with one user, and the Cyrus configuration Postfix's smtpd reads it with (Debian's
 * Postfix looks for it in `$config_directory/sasl/smtpd.conf`).
 */
function sasl(): { dir: string; conf: string } {
  const bin = '/usr/sbin/saslpasswd2';
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} is not installed (Debian package sasl2-bin); install the servers the tests use with: sudo bash scripts/install-servers.sh`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mef-sasl-'));
  chmodSync(dir, 0o755);
  const r = spawnSync(bin, ['-p', '-c', '-f', join(dir, 'sasldb2'), '-u', 'postfix.test', 'alice'], {
    input: 'secret',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`saslpasswd2 failed: ${r.stderr}`);
  // smtpd reads it as the postfix user.
  chmodSync(join(dir, 'sasldb2'), 0o644);
  return {
    dir,
    conf: `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${dir}/sasldb2\n`,
  };
}

let sink: Sink;
let engine: Engine;
let each: Postfix;
let end: Postfix;
const stops = stopList();

beforeAll(async () => {
  sink = stops.add(await startSink());
  engine = createEngine({ stageTimeout: 10_000, limits: { maxMessageBytes: 100_000 } })
    .use(spamRules())
    .use(policy);
  const ports: number[] = [];
  for (const replyAt of ['each-command', 'end-of-message'] as const) {
    const milter = createMilterServer({ engine, replyAt, log });
    ports.push((await milter.listen({ host: '127.0.0.1', port: 0 })) as number);
    stops.defer(() => milter.close());
  }
  stops.defer(() => engine.stop());
  const auth = sasl();
  stops.defer(async () => rmSync(auth.dir, { recursive: true, force: true }));
  each = await startPostfix({
    relayhost: `[127.0.0.1]:${sink.port}`,
    milter: { port: ports[0] as number },
    mainCf: ['smtpd_sasl_auth_enable = yes', 'smtpd_sasl_type = cyrus', 'smtpd_sasl_path = smtpd'],
    confFiles: { 'sasl/smtpd.conf': auth.conf },
  });
  stops.defer(() => each.stop());
  end = stops.add(
    await startPostfix({ relayhost: `[127.0.0.1]:${sink.port}`, milter: { port: ports[1] as number } }),
  );
}, 60_000);

afterAll(() => stops.stopAll());

const delivered = (marker: string) => sink.messages().find((m) => m.includes(marker));

describe('Postfix with SMTP AUTH', () => {
  it('gives the engine the authenticated user ({auth_authen}) and outbound direction', async () => {
    const marker = `auth-${Date.now()}`;
    const r = await swaks(each.port, [
      '--to',
      'user@dest.test',
      '--header',
      `Subject: ${marker}`,
      ...swaksAuth('alice@postfix.test', 'secret'),
    ]);
    expect(r.status, `${r.output}\n${each.log()}`).toBe(0);
    expect(r.output).toMatch(/235 2\.7\.0 Authentication successful/);
    const msg = await eventually(() => delivered(marker), 10_000, 'the authenticated message');
    expect(msg).toMatch(/^X-Test-User: alice@postfix\.test\r?$/m);
    expect(msg).toMatch(/^X-Test-Direction: outbound\r?$/m);
  });

  it('leaves an unauthenticated client inbound and without a user', async () => {
    const marker = `anon-${Date.now()}`;
    const r = await swaks(each.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(() => delivered(marker), 10_000, 'the anonymous message');
    expect(msg).toMatch(/^X-Test-User: none\r?$/m);
    expect(msg).toMatch(/^X-Test-Direction: inbound\r?$/m);
  });
});

describe('SKIP', () => {
  it('tells Postfix to skip the body past the size limit, and refuses the message', async () => {
    const before = lines.length;
    const big = join(tmpdir(), `mef-big-${process.pid}.txt`);
    writeFileSync(big, `${'y'.repeat(76)}\r\n`.repeat(6000));
    const r = await swaks(each.port, ['--to', 'user@dest.test', '--body', `@${big}`]);
    rmSync(big, { force: true });
    expect(r.output).toMatch(/<\*\* 552 5\.3\.4 Message size exceeds fixed limit/);
    const skip = lines.slice(before).find((l) => l.msg?.includes('SKIP'));
    expect(skip, 'a SKIP debug line').toBeDefined();
    // Postfix sends 64 KiB chunks: it stopped after the one that crossed 100,000 bytes.
    expect((skip?.obj as { bytes?: number } | undefined)?.bytes).toBeLessThan(200_000);
  });
});

describe("replyAt: 'end-of-message' behind Postfix", () => {
  it('refuses GTUBE with our 5xx at end of DATA', async () => {
    const r = await swaks(end.port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
    expect(r.output).toMatch(/<\*\* 554 5\.7\.1 Message rejected as spam/);
  });

  it('removes a refused recipient with DELRCPT and delivers to the others', async () => {
    const marker = `delrcpt-${Date.now()}`;
    const r = await swaks(end.port, [
      '--to',
      'ok@dest.test,blocked@dest.test',
      '--header',
      `Subject: ${marker}`,
    ]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(() => delivered(marker), 10_000, 'the message for the accepted recipient');
    expect(msg).toMatch(/^X-Rcpt-Args: <ok@dest\.test>/m);
    expect(msg).not.toMatch(/^X-Rcpt-Args: <blocked@/m);
  });
});
