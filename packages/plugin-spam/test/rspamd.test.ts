import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { parseRspamdReply, RspamdClient } from '../src/clients/rspamd-client.js';
import { rspamd } from '../src/plugins/rspamd-plugin.js';
import { GTUBE } from '../src/rules/builtin.js';
import { scanWithDeclaredSize } from './support/declared.js';
import { afterRequest, fakeServer } from './support/fake-server.js';
import { eml, goodHeaders } from './support/features.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const spam = readFileSync(join(fixtures, 'spam.eml'));
const ham = readFileSync(join(fixtures, 'ham.eml'));
const gtube = Buffer.from(eml(goodHeaders, `GTUBE test\r\n${GTUBE}\r\n`));

const port = inject('rspamdPort');

describe('RspamdClient against a real rspamd', () => {
  const client = new RspamdClient({ port, scanTimeout: 20_000 });

  it('answers ping', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('rejects GTUBE with its SMTP message, marked skipped', async () => {
    const r = await client.check(gtube, { ip: '192.0.2.1', from: 'a@example.com', rcpt: ['b@example.net'] });
    expect(r.action).toBe('reject');
    expect(r.score).toBe(15);
    expect(r.smtpMessage).toBe('Gtube pattern');
    expect(r.isSkipped).toBe(true);
    expect(r.symbols.map((s) => s.name)).toContain('GTUBE');
  });

  it('streams a message with chunked encoding and reads symbols with options', async () => {
    const r = await client.check(Readable.from([spam.subarray(0, 100), spam.subarray(100)]), {
      ip: '198.51.100.9',
      helo: 'mail.cheap-meds-4u.example',
      from: 'promo@cheap-meds-4u.example',
      rcpt: ['bob@example.net', 'carol@example.net'],
      queueId: 'Q123',
    });
    expect(r.score).toBeGreaterThanOrEqual(r.requiredScore > 0 ? 6 : 0);
    expect(r.action).toMatch(/add header|rewrite subject|reject/);
    expect(r.symbols.find((s) => s.name === 'SUBJ_ALL_CAPS')?.score).toBeGreaterThan(0);
    expect(r.symbols.find((s) => s.name.startsWith('RCPT_COUNT_'))).toBeDefined();
    expect(r.symbols.some((s) => s.options.length > 0)).toBe(true);
    expect(r.addHeaders.map((h) => h.name)).toContain('X-Spam-Status');
    expect(r.removeHeaders).toContainEqual({ name: 'X-Spam-Status', index: 0 });
  });
});

describe('rspamd() against a real rspamd', () => {
  it('rejects GTUBE through the engine with rspamd’s reply text and score', async () => {
    const v = await runPlugin(rspamd({ port }), gtube);
    expectVerdict(v).toReject().toHaveReply(554, '5.7.1', 'Gtube pattern').toHaveSymbol('GTUBE');
    expect(v.score.value).toBe(15);
    expectVerdict(v).toHaveSymbolOption('RSPAMD_ACTION', 'reject').toHaveSymbol('RSPAMD_SKIPPED');
  });

  it('marks the spam message as spam with rspamd’s symbols, score and headers', async () => {
    const v = await runPlugin(rspamd({ port }), spam, {
      clientAddress: '198.51.100.9',
      mailFrom: 'promo@cheap-meds-4u.example',
      recipients: ['bob@example.net'],
    });
    expect(v.spam).toBe(true);
    expectVerdict(v)
      .toHaveSymbol('SUBJ_ALL_CAPS')
      .toAddHeader('X-Spam-Status', /^Yes, score=/);
    expect(v.mutations.find((m) => m.op === 'remove' && m.name === 'X-Spam-Status')).toBeDefined();
    // Removes come before adds, as rspamd applies them.
    const firstAdd = v.mutations.findIndex((m) => m.op === 'add');
    const lastRemove = v.mutations.map((m) => m.op).lastIndexOf('remove');
    expect(lastRemove).toBeLessThan(firstAdd);
    expect(v.symbols.every((s) => s.group === 'rspamd')).toBe(true);
    // One X-Spam field: the engine's, from the score; the add-header action only records.
    expect(v.mutations.filter((m) => m.op === 'add' && m.name === 'X-Spam')).toHaveLength(1);
  });

  it('leaves the ham message alone', async () => {
    const v = await runPlugin(rspamd({ port }), ham, {
      mailFrom: 'alice@example.org',
      recipients: ['bob@example.net'],
    });
    expectVerdict(v)
      .toAccept()
      .toScoreBelow(4)
      .toHaveNoErrors()
      .toHaveSymbolOption('RSPAMD_ACTION', 'no action');
    expect(v.spam).toBe(false);
  });

  it('records RSPAMD_SKIPPED_SIZE when the stream passes maxSize, and reads the message to its end', async () => {
    const big = Buffer.from(eml(goodHeaders, `${GTUBE}\r\n${'y'.repeat(300_000)}\r\n`));
    const v = await runPlugin(rspamd({ port, maxSize: 100_000, skippedScore: 1.5 }), big);
    // Its own trace, not an error: the cap (MEF_SPAM_RSPAMD_TOO_LARGE inside) is no outage.
    expectVerdict(v)
      .toHaveSymbol('RSPAMD_SKIPPED_SIZE', 1.5)
      .toHaveSymbolOption('RSPAMD_SKIPPED_SIZE', /\+ > 100000$/)
      .notToHaveSymbol('GTUBE')
      .toHaveNoErrors()
      .toAccept();
  });

  it('skips at once when MAIL FROM declared a SIZE over the cap', async () => {
    const v = await scanWithDeclaredSize(rspamd({ port, maxSize: 1000 }), gtube, 50_000);
    expectVerdict(v)
      .toHaveSymbolOption('RSPAMD_SKIPPED_SIZE', /declared 50000/)
      .toAccept();
  });
});

/** A fake rspamd that answers every request with `status` and `body` (or calls `custom`). */
async function fakeRspamd(status: number, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  let request = '';
  const srv = await fakeServer((s) => {
    s.on('data', (d) => {
      request += d.toString('latin1');
    });
    afterRequest(
      s,
      () =>
        s.end(
          `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
        ),
      '0\r\n\r\n',
    );
  });
  return { ...srv, request: () => request };
}

describe('rspamd against fake servers', () => {
  it('sends the envelope as request headers', async () => {
    const srv = await fakeRspamd(200, { action: 'no action', score: 0, required_score: 15, symbols: {} });
    await runPlugin(rspamd({ port: srv.port, pass: 'all' }), ham, {
      clientAddress: '192.0.2.55',
      helo: 'mx.example.org',
      mailFrom: 'alice@example.org',
      recipients: ['bob@example.net', 'carol@example.net'],
      user: 'alice',
    });
    const req = srv.request();
    expect(req).toMatch(/^POST \/checkv2 HTTP\/1\.1\r\n/);
    expect(req).toMatch(/\r\nIP: 192\.0\.2\.55\r\n/);
    expect(req).toMatch(/\r\nHelo: mx\.example\.org\r\n/);
    expect(req).toMatch(/\r\nFrom: alice@example\.org\r\n/);
    expect(req).toMatch(/\r\nRcpt: bob@example\.net\r\nRcpt: carol@example\.net\r\n/);
    expect(req).toMatch(/\r\nQueue-Id: \S+\r\n/);
    expect(req).toMatch(/\r\nUser: alice\r\n/);
    expect(req).toMatch(/\r\nPass: all\r\n/);
    expect(req).toMatch(/Transfer-Encoding: chunked/);
    await srv.close();
  });

  it('maps custom actions, header positions, negative removes and the score without loss', async () => {
    const srv = await fakeRspamd(200, {
      action: 'quarantine-me',
      score: 9.5,
      required_score: 15,
      is_skipped: false,
      symbols: {
        A_SYM: { name: 'A_SYM', score: 4, options: ['x', 'y'], description: 'first' },
        B_SYM: { name: 'B_SYM', score: 3 },
      },
      messages: { smtp_message: 'held for review', other: 'z' },
      milter: {
        add_headers: {
          'X-Last': 'appended',
          'X-First': { value: 'top', order: 0 },
          'X-Multi': [{ value: 'one', order: -1 }, 'two'],
        },
        remove_headers: { 'X-Old': 0, Received: -1, 'X-Second': 2 },
      },
    });
    const msg = Buffer.from(
      eml(
        `Received: a\nReceived: b\nReceived: c\n${goodHeaders}\nX-Old: 1\nX-Second: 1\nX-Second: 2`,
        'hi\r\n',
      ),
    );
    const v = await runPlugin(rspamd({ port: srv.port, actions: { 'quarantine-me': 'quarantine' } }), msg);
    expectVerdict(v).toBe('quarantine').toHaveSymbolOption('A_SYM', 'y').toHaveSymbol('B_SYM', 3);
    expectVerdict(v)
      .toHaveSymbol('RSPAMD_SCORE_ADJUST', 2.5)
      .toHaveSymbolOption('RSPAMD_ACTION', 'quarantine-me');
    expect(v.score.value).toBe(9.5);
    const ops = v.mutations
      .filter((m) => m.stage === 'rspamd')
      .map((m) => [m.op, 'name' in m ? m.name : '', 'index' in m ? m.index : undefined]);
    expect(ops).toEqual([
      ['remove', 'X-Old', undefined],
      ['remove', 'Received', 3],
      ['remove', 'X-Second', 2],
      ['add', 'X-First', undefined],
      ['add', 'X-Last', undefined],
      ['add', 'X-Multi', undefined],
      ['add', 'X-Multi', undefined],
    ]);
    await srv.close();
  });

  it('records an unknown custom action as a symbol only, by default', async () => {
    const srv = await fakeRspamd(200, { action: 'my custom', score: 1, required_score: 15, symbols: {} });
    const v = await runPlugin(rspamd({ port: srv.port }), ham);
    expectVerdict(v).toAccept().toHaveSymbolOption('RSPAMD_ACTION', 'my custom');
    await srv.close();
  });

  it('maps soft reject to tempfail and rewrite subject to a new subject', async () => {
    const soft = await fakeRspamd(200, {
      action: 'soft reject',
      score: 1,
      required_score: 15,
      symbols: {},
      messages: { smtp_message: 'Try again' },
    });
    expectVerdict(await runPlugin(rspamd({ port: soft.port }), ham))
      .toTempfail()
      .toHaveReply(451, '4.7.1', 'Try again');
    await soft.close();
    const rw = await fakeRspamd(200, {
      action: 'rewrite subject',
      score: 7,
      required_score: 15,
      subject: '[SPAM] x',
      symbols: {},
    });
    const v = await runPlugin(rspamd({ port: rw.port }), ham);
    expect(v.mutations).toContainEqual(
      expect.objectContaining({ op: 'set', name: 'Subject', value: '[SPAM] x' }),
    );
    await rw.close();
  });

  it('tags with X-Spam only when add header is mapped to tag', async () => {
    const srv = await fakeRspamd(200, { action: 'add header', score: 2, required_score: 15, symbols: {} });
    const plain = await runPlugin(rspamd({ port: srv.port }), ham);
    expect(plain.mutations.filter((m) => m.op === 'add' && m.name === 'X-Spam')).toHaveLength(0);
    const tagged = await runPlugin(rspamd({ port: srv.port, actions: { 'add header': 'tag' } }), ham);
    expectVerdict(tagged).toAddHeader('X-Spam', 'Yes');
    await srv.close();
  });

  it('turns rspamd’s error reply into an error finding', async () => {
    const srv = await fakeRspamd(200, { error: 'cannot parse message' });
    const v = await runPlugin(rspamd({ port: srv.port }), ham);
    expectVerdict(v).toAccept().toHaveError('MEF_SPAM_RSPAMD_PROTOCOL');
    expect(v.errors[0]?.message).toMatch(/cannot parse/);
    await srv.close();
  });

  it('calls a non-200 status and garbage protocol errors', async () => {
    const s500 = await fakeRspamd(500, { error: 'internal' });
    await expect(
      new RspamdClient({ port: s500.port }).check(Readable.from([Buffer.from('x')])),
    ).rejects.toMatchObject({
      code: 'MEF_SPAM_RSPAMD_PROTOCOL',
      message: expect.stringMatching(/500: internal/),
    });
    await s500.close();
    const junk = await fakeRspamd(200, '<html>oops</html>');
    await expect(
      new RspamdClient({ port: junk.port }).check(Readable.from([Buffer.from('x')])),
    ).rejects.toMatchObject({
      code: 'MEF_SPAM_RSPAMD_PROTOCOL',
    });
    await junk.close();
    const noAction = await fakeRspamd(200, { score: 1 });
    await expect(
      new RspamdClient({ port: noAction.port }).check(Readable.from([Buffer.from('x')])),
    ).rejects.toThrow(/no action/);
    await noAction.close();
  });

  it('times out on a hang and applies the failure policy', async () => {
    const srv = await fakeServer(() => undefined);
    const t0 = Date.now();
    const v = await runPlugin(rspamd({ port: srv.port, scanTimeout: 300 }), ham);
    expectVerdict(v).toAccept().toHaveError('MEF_SPAM_RSPAMD_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(3000);
    const t = await runPlugin(rspamd({ port: srv.port, scanTimeout: 300, onError: 'tempfail' }), ham);
    expectVerdict(t).toTempfail();
    await srv.close();
  });

  it('calls a reset mid-reply unavailable', async () => {
    const srv = await fakeServer((s) =>
      afterRequest(
        s,
        () => {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"action":');
          setTimeout(() => s.resetAndDestroy(), 20);
        },
        '0\r\n\r\n',
      ),
    );
    await expect(
      new RspamdClient({ port: srv.port }).check(Readable.from([Buffer.from('x')])),
    ).rejects.toMatchObject({
      code: 'MEF_SPAM_RSPAMD_UNAVAILABLE',
    });
    await srv.close();
  });

  it('parses replies without optional parts', () => {
    const r = parseRspamdReply({ action: 'no action', score: 0.5, required_score: 15 });
    expect(r).toMatchObject({
      action: 'no action',
      symbols: [],
      addHeaders: [],
      removeHeaders: [],
      isSkipped: false,
    });
    expect(() => parseRspamdReply([1])).toThrow(/not a JSON object/);
  });

  it('validates options', () => {
    expect(() => rspamd({ actions: { reject: 'explode' as 'reject' } })).toThrow(
      /actions\.reject.*"explode"/,
    );
    expect(() => rspamd({ maxSize: 0 })).toThrow(/maxSize/);
  });
});
