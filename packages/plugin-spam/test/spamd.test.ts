import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { parseAnswer, parseSpamdReport, SpamdClient } from '../src/clients/spamd-client.js';
import { spamassassin } from '../src/plugins/spamassassin-plugin.js';
import { GTUBE } from '../src/rules/builtin.js';
import { scanWithDeclaredSize } from './support/declared.js';
import { afterRequest, fakeServer } from './support/fake-server.js';
import { eml, goodHeaders } from './support/features.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const spam = readFileSync(join(fixtures, 'spam.eml'));
const ham = readFileSync(join(fixtures, 'ham.eml'));
const gtube = Buffer.from(eml(goodHeaders, `GTUBE test\r\n${GTUBE}\r\n`));

const port = inject('spamdPort');

describe('SpamdClient against a real spamd', () => {
  const client = new SpamdClient({ port, scanTimeout: 20_000 });

  it('answers PING', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('CHECK calls GTUBE spam with its score and threshold', async () => {
    const r = await client.scan('CHECK', gtube);
    expect(r.spam).toBe(true);
    expect(r.score).toBeGreaterThanOrEqual(1000);
    expect(r.threshold).toBe(5);
  });

  it('SYMBOLS lists the rule names', async () => {
    const r = await client.scan('SYMBOLS', gtube);
    expect(r.symbols).toContain('GTUBE');
  });

  it('REPORT gives every rule with its score, the total matching', async () => {
    const r = await client.scan('REPORT', spam);
    expect(r.spam).toBe(true);
    const sum = r.rules.reduce((a, x) => a + x.score, 0);
    expect(Math.abs(sum - r.score)).toBeLessThan(0.1 * r.rules.length);
    expect(r.rules.find((x) => x.name === 'DEAR_FRIEND')?.score).toBeGreaterThan(0);
  });

  it('PROCESS returns the message with SpamAssassin headers', async () => {
    const r = await client.scan('PROCESS', gtube);
    expect(r.body.toString()).toMatch(/X-Spam-Flag: YES/);
  });

  it('TELL learns a message into the Bayes database and forgets it', async () => {
    const learned = await client.tell(ham, { messageClass: 'ham' });
    expect(learned.didSet).toBe('local');
    const forgot = await client.tell(ham, { messageClass: 'ham', action: 'forget' });
    expect(forgot.didRemove).toBe('local');
  });
});

describe('spamassassin() against a real spamd', () => {
  it('rejects GTUBE through the engine', async () => {
    const v = await runPlugin(spamassassin({ port }), gtube);
    expectVerdict(v).toReject().toHaveSymbol('SA_GTUBE', 1000).toHaveSymbol('SA_SPAM', 1);
  });

  it('scores the spam message as spam with its rules as symbols', async () => {
    const v = await runPlugin(spamassassin({ port }), spam);
    expectVerdict(v).toScoreAtLeast(6).toHaveSymbol('SA_SPAM').toHaveSymbol('SA_DEAR_FRIEND');
    expect(v.spam).toBe(true);
    expect(v.symbols.every((s) => s.group === 'spamassassin')).toBe(true);
  });

  it('leaves the ham message alone', async () => {
    const v = await runPlugin(spamassassin({ port }), ham);
    expectVerdict(v).toAccept().notToHaveSymbol('SA_SPAM').toScoreBelow(1).toHaveNoErrors();
  });

  it('gives one total with CHECK and SYMBOLS', async () => {
    const v = await runPlugin(spamassassin({ port, command: 'SYMBOLS' }), gtube);
    expectVerdict(v).toHaveSymbolOption('SA_SCORE', 'GTUBE');
    const c = await runPlugin(spamassassin({ port, command: 'CHECK' }), gtube);
    expect(c.symbols.find((s) => s.name === 'SA_SCORE')?.score).toBeGreaterThanOrEqual(1000);
  });

  it('records SPAMD_SKIPPED_SIZE for a message over maxSize, read to the end, never sent', async () => {
    const big = Buffer.from(eml(goodHeaders, `${GTUBE}\r\n${'x'.repeat(200_000)}\r\n`));
    const v = await runPlugin(spamassassin({ port, maxSize: 100_000, skippedScore: 2 }), big);
    expectVerdict(v).toHaveSymbol('SPAMD_SKIPPED_SIZE', 2).notToHaveSymbol('SA_GTUBE').toHaveNoErrors();
  });

  it('skips at once when MAIL FROM declared a SIZE over the cap', async () => {
    const v = await scanWithDeclaredSize(spamassassin({ port, maxSize: 1000 }), gtube, 5000);
    expectVerdict(v)
      .toHaveSymbol('SPAMD_SKIPPED_SIZE')
      .toHaveSymbolOption('SPAMD_SKIPPED_SIZE', /declared 5000/);
  });
});

describe('SpamdClient against fake servers', () => {
  it('spells Content-length the way spamd wants it and sends the blank line with PING', async () => {
    let request = '';
    const srv = await fakeServer((s) => {
      s.on('data', (d) => {
        request += d.toString('latin1');
      });
      afterRequest(s, () => {
        if (request.startsWith('PING')) s.end('SPAMD/1.5 0 PONG\r\n');
      });
      s.on('end', () => {
        if (!request.startsWith('PING')) s.end('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0\r\n\r\n');
      });
    });
    const c = new SpamdClient({ port: srv.port });
    await c.ping();
    expect(request).toBe('PING SPAMC/1.5\r\n\r\n');
    request = '';
    const r = await c.scan('CHECK', Buffer.from('Subject: x\r\n\r\nhello\r\n'), { user: 'bob' });
    expect(request).toBe(
      'CHECK SPAMC/1.5\r\nContent-length: 21\r\nUser: bob\r\n\r\nSubject: x\r\n\r\nhello\r\n',
    );
    expect(r).toMatchObject({ spam: false, score: 1, threshold: 5 });
    await srv.close();
  });

  it('reads a non-zero code as a refusal with no body', async () => {
    const srv = await fakeServer((s) => afterRequest(s, () => s.end('SPAMD/1.0 76 Bad header line: x\r\n')));
    const c = new SpamdClient({ port: srv.port });
    await expect(c.scan('CHECK', Buffer.from('x'))).rejects.toMatchObject({
      code: 'MEF_SPAM_SPAMD_PROTOCOL',
      message: expect.stringMatching(/76 Bad header line/),
    });
    await srv.close();
  });

  it('calls garbage a protocol error', async () => {
    const srv = await fakeServer((s) => afterRequest(s, () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await expect(new SpamdClient({ port: srv.port }).scan('CHECK', Buffer.from('x'))).rejects.toMatchObject({
      code: 'MEF_SPAM_SPAMD_PROTOCOL',
    });
    await srv.close();
  });

  it('times out on a server that never answers', async () => {
    const srv = await fakeServer(() => undefined);
    const t0 = Date.now();
    await expect(
      new SpamdClient({ port: srv.port, scanTimeout: 300 }).scan('CHECK', Buffer.from('x')),
    ).rejects.toMatchObject({ code: 'MEF_SPAM_SPAMD_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(2000);
    await srv.close();
  });

  it('calls a reset mid-reply unavailable', async () => {
    const srv = await fakeServer((s) =>
      afterRequest(s, () => {
        s.write('SPAMD/1.1 0 EX_OK\r\nSpam: Tr');
        setTimeout(() => s.resetAndDestroy(), 20);
      }),
    );
    await expect(new SpamdClient({ port: srv.port }).scan('CHECK', Buffer.from('x'))).rejects.toMatchObject({
      code: expect.stringMatching(/MEF_SPAM_SPAMD_(UNAVAILABLE|PROTOCOL)/),
    });
    await srv.close();
  });

  it('calls a refused connection unavailable', async () => {
    const srv = await fakeServer(() => undefined);
    const p = srv.port;
    await srv.close();
    await expect(new SpamdClient({ port: p }).scan('CHECK', Buffer.from('x'))).rejects.toMatchObject({
      code: 'MEF_SPAM_SPAMD_UNAVAILABLE',
    });
  });

  it('turns a failure into an error finding under the accept policy, and tempfail when asked', async () => {
    const srv = await fakeServer((s) => afterRequest(s, () => s.end('garbage\r\n')));
    const v = await runPlugin(spamassassin({ port: srv.port }), gtube);
    expectVerdict(v).toAccept().toHaveError('MEF_SPAM_SPAMD_PROTOCOL');
    const t = await runPlugin(spamassassin({ port: srv.port, onError: 'tempfail' }), gtube);
    expectVerdict(t).toTempfail();
    await srv.close();
  });
});

describe('spamd parsing', () => {
  it('parses report tables with wrapped descriptions and negative scores', () => {
    const rules = parseSpamdReport(
      [
        'Content analysis details:   (3.2 points, 5.0 required)',
        '',
        ' pts rule name              description',
        '---- ---------------------- --------------------------------------------------',
        " 2.7 DEAR_FRIEND            BODY: Dear Friend? That's not very dear!",
        '-0.0 NO_RELAYS              Informational: message was not relayed via',
        '                            SMTP',
        '-1.9 BAYES_00               BODY: Bayes spam probability is 0 to 1%',
        '',
      ].join('\n'),
    );
    expect(rules).toEqual([
      { name: 'DEAR_FRIEND', score: 2.7, description: "BODY: Dear Friend? That's not very dear!" },
      { name: 'NO_RELAYS', score: -0, description: 'Informational: message was not relayed via SMTP' },
      { name: 'BAYES_00', score: -1.9, description: 'BODY: Bayes spam probability is 0 to 1%' },
    ]);
  });

  it('checks the declared Content-length of an answer', () => {
    expect(() =>
      parseAnswer(
        'SYMBOLS',
        Buffer.from('SPAMD/1.1 0 EX_OK\r\nContent-length: 10\r\nSpam: True ; 9 / 5\r\n\r\nGTUBE'),
        false,
      ),
    ).toThrow(/Content-length 10/);
  });

  it('validates options', () => {
    expect(() => spamassassin({ command: 'PROCESS' as 'CHECK' })).toThrow(/command.*"PROCESS"/);
    expect(() => spamassassin({ port: 0 })).toThrow(/port/);
    expect(() => spamassassin({ prefix: 'sa-' })).toThrow(/prefix/);
  });
});
