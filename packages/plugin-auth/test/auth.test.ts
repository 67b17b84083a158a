import { expectVerdict, runPlugin } from '@mef/core/testing';
import { type NamedServer as Named, startNamed } from '@mef/test-servers';
import { arcSealed, BAD_IP, GOOD_IP, message, signed, zones } from '@mef/test-servers/auth-world';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthOptions, auth, createResolver } from '../src/index.js';

let named: Named;

beforeAll(async () => {
  named = await startNamed(zones());
});

afterAll(async () => {
  await named?.stop();
});

const plugin = (over: Partial<AuthOptions> = {}) =>
  auth({ servers: [named.server], queryTimeout: 1000, hostname: 'mx.mef.test', ...over });

const envelope = (ip: string, mailFrom: string, helo = 'client.example.test') => ({
  clientAddress: ip,
  mailFrom,
  helo,
});

describe('auth against a real BIND on loopback', () => {
  it('passes SPF, DKIM and DMARC for a signed message from an allowed client', async () => {
    const msg = await signed('pass.test', message('alice@pass.test'));
    const v = await runPlugin(plugin(), msg, envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(v)
      .toAccept()
      .toHaveSymbol('R_SPF_ALLOW', -0.2)
      .toHaveSymbol('R_DKIM_ALLOW', -0.2)
      .toHaveSymbol('DMARC_POLICY_ALLOW', -0.5)
      .notToHaveSymbol('R_SPF_FAIL')
      .notToHaveSymbol('ARC_ALLOW');
    const ar = v.mutations.find((m) => 'name' in m && m.name === 'Authentication-Results');
    expect(ar && 'value' in ar ? ar.value : '').toMatch(
      /^mx\.mef\.test;[\s\S]*dkim=pass[\s\S]*spf=pass[\s\S]*dmarc=pass/,
    );
    expect(v.mutations.some((m) => 'name' in m && m.name === 'Received-SPF')).toBe(true);
  });

  it('removes Authentication-Results that arrived claiming our host name, and keeps the others', async () => {
    const msg = [
      'Authentication-Results: other.example; spf=pass smtp.mailfrom=alice@pass.test',
      'Authentication-Results: mx.mef.test; dkim=pass header.d=pass.test; dmarc=pass',
      message('alice@pass.test'),
    ].join('\r\n');
    const v = await runPlugin(plugin(), msg, envelope(BAD_IP, 'alice@pass.test'));
    expect(v.mutations.filter((m) => m.op === 'remove')).toEqual([
      { op: 'remove', name: 'Authentication-Results', index: 2, stage: 'auth' },
    ]);
    expectVerdict(v).toHaveSymbol('DMARC_POLICY_REJECT');
  });

  it('fails SPF and DMARC (p=reject) for an unsigned message from another client, scoring only by default', async () => {
    const v = await runPlugin(plugin(), message('alice@pass.test'), envelope(BAD_IP, 'alice@pass.test'));
    expectVerdict(v)
      .toAccept()
      .toHaveSymbol('R_SPF_FAIL', 1)
      .toHaveSymbol('R_DKIM_NA', 0)
      .toHaveSymbol('DMARC_POLICY_REJECT', 2);
  });

  it('rejects a DMARC p=reject failure with 550 5.7.1 when dmarcReject is reject', async () => {
    const v = await runPlugin(
      plugin({ dmarcReject: 'reject' }),
      message('alice@pass.test'),
      envelope(BAD_IP, 'alice@pass.test'),
    );
    expectVerdict(v).toReject().toHaveSymbol('DMARC_POLICY_REJECT');
    expect(v.reply?.code).toBe(550);
    expect(v.reply?.enhanced).toBe('5.7.1');
    expect(v.reply?.lines.join(' ')).toContain('pass.test');
  });

  it('quarantines a DMARC p=reject failure when dmarcReject is quarantine', async () => {
    const v = await runPlugin(
      plugin({ dmarcReject: 'quarantine' }),
      message('alice@pass.test'),
      envelope(BAD_IP, 'alice@pass.test'),
    );
    expect(v.disposition).toBe('quarantine');
  });

  it('passes DMARC through DKIM alone when SPF fails (a forwarded message)', async () => {
    const msg = await signed('pass.test', message('alice@pass.test'));
    const v = await runPlugin(
      plugin({ dmarcReject: 'reject' }),
      msg,
      envelope(BAD_IP, 'bounce@forwarder.test'),
    );
    expectVerdict(v).toAccept().toHaveSymbol('R_DKIM_ALLOW').toHaveSymbol('DMARC_POLICY_ALLOW');
  });

  it('records R_DKIM_REJECT for a body changed after signing', async () => {
    const msg = await signed('pass.test', message('alice@pass.test'));
    const tampered = msg.replace('the report is attached', 'the invoice is attached');
    const v = await runPlugin(plugin(), tampered, envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(v)
      .toHaveSymbol('R_DKIM_REJECT', 1)
      .toHaveSymbol('R_SPF_ALLOW')
      .toHaveSymbol('DMARC_POLICY_ALLOW');
  });

  it('softfails SPF and fails DMARC (p=quarantine), and quarantines by option', async () => {
    const v1 = await runPlugin(plugin(), message('bob@soft.test'), envelope(BAD_IP, 'bob@soft.test'));
    expectVerdict(v1)
      .toAccept()
      .toHaveSymbol('R_SPF_SOFTFAIL', 0)
      .toHaveSymbol('DMARC_POLICY_QUARANTINE', 1.5);
    const v2 = await runPlugin(
      plugin({ dmarcQuarantine: 'quarantine' }),
      message('bob@soft.test'),
      envelope(BAD_IP, 'bob@soft.test'),
    );
    expect(v2.disposition).toBe('quarantine');
  });

  it('records SPF neutral and a p=none DMARC failure as a soft fail', async () => {
    const v = await runPlugin(
      plugin(),
      message('carol@neutral.test'),
      envelope(BAD_IP, 'carol@neutral.test'),
    );
    expectVerdict(v).toHaveSymbol('R_SPF_NEUTRAL').toHaveSymbol('DMARC_POLICY_SOFTFAIL', 0.1);
  });

  it('records NA symbols for a domain with no records at all', async () => {
    const v = await runPlugin(plugin(), message('dave@none.test'), envelope(BAD_IP, 'dave@none.test'));
    expectVerdict(v).toAccept().toHaveSymbol('R_SPF_NA').toHaveSymbol('R_DKIM_NA').toHaveSymbol('DMARC_NA');
    expect(v.errors).toEqual([]);
  });

  it('checks the HELO identity for a bounce (null MAIL FROM)', async () => {
    const v = await runPlugin(plugin(), message('alice@pass.test'), envelope(GOOD_IP, '', 'mail.pass.test'));
    const spf = v.symbols.find((s) => s.name === 'R_SPF_ALLOW');
    expect(spf?.options).toContain('mail.pass.test');
  });

  it('validates an ARC chain sealed by mailauth, and rejects a broken one', async () => {
    const sealed = await arcSealed(await signed('pass.test', message('alice@pass.test')));
    const v = await runPlugin(plugin(), sealed, envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(v).toHaveSymbol('ARC_ALLOW', -1).toHaveSymbol('R_DKIM_ALLOW');
    const broken = sealed.replace('Subject: Quarterly report', 'Subject: Quarterly report (changed)');
    const b = await runPlugin(plugin(), broken, envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(b).toHaveSymbol('ARC_REJECT', 1).toHaveSymbol('R_DKIM_REJECT');
  });

  it('records ARC_NA for a message without ARC headers, and nothing for ARC when switched off', async () => {
    const msg = message('alice@pass.test');
    expectVerdict(await runPlugin(plugin(), msg, envelope(GOOD_IP, 'alice@pass.test'))).toHaveSymbol(
      'ARC_NA',
    );
    const sealed = await arcSealed(msg);
    const v = await runPlugin(plugin({ arc: false }), sealed, envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(v).notToHaveSymbol('ARC_ALLOW').notToHaveSymbol('ARC_NA');
  });

  it('applies score overrides and switches checks off', async () => {
    const v = await runPlugin(
      plugin({ scores: { R_SPF_FAIL: 3.5 }, dkim: false, dmarc: false, headers: false }),
      message('alice@pass.test'),
      envelope(BAD_IP, 'alice@pass.test'),
    );
    expectVerdict(v)
      .toHaveSymbol('R_SPF_FAIL', 3.5)
      .notToHaveSymbol('R_DKIM_NA')
      .notToHaveSymbol('DMARC_POLICY_REJECT');
    expect(v.mutations).toEqual([]);
  });

  it('verifies SPF only for a message over maxSize, reading it to the end', async () => {
    const big = message('alice@pass.test', `${'x'.repeat(998)}\r\n`.repeat(200));
    const v = await runPlugin(plugin({ maxSize: 50_000 }), big, envelope(BAD_IP, 'alice@pass.test'));
    expectVerdict(v)
      .toHaveSymbol('AUTH_SKIPPED_SIZE', 0)
      .toHaveSymbol('R_SPF_FAIL')
      .notToHaveSymbol('R_DKIM_NA');
  });

  it('reads a message fed in 1-byte chunks', async () => {
    const { Readable } = await import('node:stream');
    const msg = Buffer.from(await signed('pass.test', message('alice@pass.test')));
    const chunks = [...msg].map((b) => Buffer.from([b]));
    const v = await runPlugin(plugin(), () => Readable.from(chunks), envelope(GOOD_IP, 'alice@pass.test'));
    expectVerdict(v).toHaveSymbol('R_DKIM_ALLOW').toHaveSymbol('DMARC_POLICY_ALLOW');
  });
});

describe('shared resolver', () => {
  it('answers TXT lookups from the configured server only', async () => {
    const r = createResolver({ servers: [named.server], queryTimeout: 1000 });
    const answer = (await r.resolve('_dmarc.pass.test', 'TXT')) as string[][];
    expect(answer.map((a) => a.join(''))).toEqual(['v=DMARC1; p=reject']);
    const v = await runPlugin(
      auth({ resolver: r }),
      message('dave@none.test'),
      envelope(BAD_IP, 'dave@none.test'),
    );
    expectVerdict(v).toHaveSymbol('R_SPF_NA');
  });
});
