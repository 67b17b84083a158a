import type { Plugin } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { buildMessage, expectVerdict, runPlugin } from '@mef/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { DnsListClient, dnswl, genericList, type RblOptions, rbl } from '../src/index.js';
import { lists } from './helpers/lists.js';

const { servers, zen, dbl, plugin, clean, noGreylist } = lists();

/** A stage that records that it ran, to see `skip` work. */
const marker = (name: string): Plugin => ({
  name,
  priority: 200,
  message(ctx) {
    ctx.findings.symbol('MARKER_RAN', 0);
  },
});

describe('rbl() options', () => {
  it('throws a TypeError when no servers are configured: no system-resolver fallback', () => {
    try {
      rbl({ lists: [zen()] } as unknown as RblOptions);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      expect((err as { code?: string }).code).toBe('MEF_CORE_INVALID_OPTION');
      expect(String(err)).toMatch(/servers/);
    }
    expect(() => rbl({ servers: [], lists: [zen()] })).toThrow(TypeError);
  });

  it('names the bad option and quotes the value', () => {
    expect(() => rbl({ servers, lists: [] })).toThrow(/lists/);
    expect(() => rbl({ servers, lists: [zen()], onError: 'maybe' as 'accept' })).toThrow(/onError.*"maybe"/);
    expect(() => rbl({ servers, lists: [zen({ zone: 'x y' })] })).toThrow(/lists\[0\]\.zone.*"x y"/);
    expect(() => rbl({ servers, lists: [zen()], links: { maxLookups: -1 } })).toThrow(/links\.maxLookups/);
    expect(() => rbl({ servers, lists: [zen()], received: { trusted: ['nope'] } })).toThrow(
      /received\.trusted/,
    );
  });

  it('is a plugin with metadata and accept as its failure policy', () => {
    const p = plugin();
    expect(p).toMatchObject({ name: 'rbl', core: '^0.1.0', onError: 'accept', stageTimeout: 3000 });
  });
});

describe('rbl() in the engine, against rbldnsd', () => {
  it('scores a listed client IP with its TXT reason, and accepts', async () => {
    const v = await runPlugin(plugin(), buildMessage(), {
      ...clean,
      clientAddress: '192.0.2.4',
      engine: noGreylist,
    });
    expectVerdict(v)
      .toAccept()
      .toHaveSymbol('RBL_ZEN_XBL', 4)
      .toHaveSymbolOption('RBL_ZEN_XBL', 'client:192.0.2.4');
    expectVerdict(v).toHaveSymbolOption('RBL_ZEN_XBL', 'XBL exploited host 192.0.2.4').toHaveNoErrors();
  });

  it('records nothing for an unlisted client, IPv4 or IPv6', async () => {
    for (const ip of ['192.0.2.77', '2001:db8::1']) {
      const v = await runPlugin(plugin(), buildMessage(), { ...clean, clientAddress: ip });
      expect(v.symbols.filter((s) => s.stage === 'rbl')).toEqual([]);
    }
  });

  it('scores a listed IPv6 client', async () => {
    const v = await runPlugin(plugin(), buildMessage(), { ...clean, clientAddress: '2001:db8:bad::25' });
    expectVerdict(v).toHaveSymbol('RBL_ZEN_SBL', 4);
  });

  it('rejects at connect with the TXT reason in the reply when the list rejects', async () => {
    const v = await runPlugin(plugin({ lists: [zen({ reject: 'connect' })] }), buildMessage(), {
      ...clean,
      clientAddress: '192.0.2.4',
    });
    expectVerdict(v)
      .toReject()
      .toHaveReply(
        554,
        '5.7.1',
        /Client host \[192\.0\.2\.4\] blocked using zen\.test; XBL exploited host 192\.0\.2\.4/,
      );
    expect(v.scope).toBe('connection');
  });

  it('scores, but does not reject, on return codes marked as score-only (PBL)', async () => {
    const v = await runPlugin(plugin({ lists: [zen({ reject: 'connect' })] }), buildMessage(), {
      ...clean,
      clientAddress: '192.0.2.10',
      engine: noGreylist,
    });
    expectVerdict(v).toAccept().toHaveSymbol('RBL_ZEN_PBL', 2);
  });

  it('defers the reject to RCPT when the list says rcpt', async () => {
    const engine = createEngine().use(
      plugin({ lists: [zen({ reject: 'rcpt', reply: { text: 'Go away {target}' } })] }),
    );
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    expect((await conn.connect()).disposition).toBe('accept');
    expect((await conn.helo('x.clean.com')).disposition).toBe('accept');
    const tx = conn.transaction();
    expect((await tx.mailFrom('a@clean.com')).disposition).toBe('accept');
    const r = await tx.rcptTo('b@clean.com');
    expect(r.disposition).toBe('reject');
    expect(r.scope).toBe('recipient');
    expect(r.reply).toEqual({ code: 550, enhanced: '5.7.1', lines: ['Go away [192.0.2.1]'] });
    await tx.dispose();
    await conn.close();
    await engine.stop();
  });

  it('leaves its listings in ctx.state.rbl for later stages, typed', async () => {
    const seen: string[] = [];
    const reader: Plugin = {
      name: 'reader',
      priority: 200,
      message(ctx) {
        for (const l of ctx.state.rbl?.listings ?? [])
          seen.push(`${l.check}:${l.target}:${l.symbols.join(',')}`);
      },
    };
    await runPlugin([plugin({ lists: [zen(), dbl()] }), reader], buildMessage(), {
      clientAddress: '192.0.2.5',
      helo: 'badhelo.org',
      mailFrom: 'a@clean.com',
    });
    expect(seen).toEqual(['client:192.0.2.5:RBL_ZEN_SBL,RBL_ZEN_XBL', 'helo:badhelo.org:DBL_SPAM']);
  });

  it('keeps the transactions of one connection apart', async () => {
    const engine = createEngine().use(plugin({ lists: [dbl({ reject: 'rcpt' })] }));
    await engine.start();
    const conn = engine.connection({ clientAddress: '192.0.2.77' });
    await conn.connect();
    await conn.helo('mail.clean.com');
    const tx1 = conn.transaction();
    await tx1.mailFrom('a@badsender.com');
    expect((await tx1.rcptTo('b@clean.com')).disposition).toBe('reject');
    await tx1.dispose();
    const tx2 = conn.transaction();
    await tx2.mailFrom('a@clean.com');
    expect((await tx2.rcptTo('b@clean.com')).disposition).toBe('accept');
    await tx2.dispose();
    await conn.close();
    await engine.stop();
  });

  it('checks the HELO name, the MAIL FROM domain and the From domain against a domain list', async () => {
    const v = await runPlugin(
      plugin({ lists: [dbl()] }),
      buildMessage({ from: 'X <x@mail.phisher.co.uk>' }),
      {
        clientAddress: '192.0.2.77',
        helo: 'badhelo.org',
        mailFrom: 'bounce@news.badsender.com',
      },
    );
    expectVerdict(v)
      .toHaveSymbol('DBL_SPAM', 6.5)
      .toHaveSymbolOption('DBL_SPAM', 'helo:badhelo.org')
      .toHaveSymbol('DBL_PHISH', 6.5)
      .toHaveSymbolOption('DBL_PHISH', 'from:phisher.co.uk');
    // DBL_SPAM counts once although HELO and MAIL FROM both hit
    expect(v.symbols.filter((s) => s.name === 'DBL_SPAM').length).toBe(1);
    expect(v.score.value).toBe(13);
  });

  it('rejects at MAIL FROM for a listed sender domain when the list rejects', async () => {
    const v = await runPlugin(plugin({ lists: [dbl({ reject: 'connect', txt: true })] }), buildMessage(), {
      clientAddress: '192.0.2.77',
      helo: 'mail.clean.com',
      mailFrom: 'a@badsender.com',
    });
    expectVerdict(v)
      .toReject()
      .toHaveReply(550, '5.7.1', /Sender domain badsender\.com blocked using dbl\.test; DBL spam domain/);
  });

  it('checks link domains from text and HTML parts, reduced to the registrable domain', async () => {
    const msg = buildMessage({
      text: 'Cheap pills at http://shop.spammer.com/buy and www.clean-site.com',
      html: '<p><a href="https://login.phisher.co.uk/x">log in</a> <a href="http://a.b.spamfamily.net/">more</a></p>',
    });
    const v = await runPlugin(plugin({ lists: [dbl()] }), msg, clean);
    expectVerdict(v)
      .toHaveSymbol('DBL_SPAM', 6.5)
      .toHaveSymbolOption('DBL_SPAM', 'uri:spammer.com')
      .toHaveSymbolOption('DBL_SPAM', 'uri:spamfamily.net')
      .toHaveSymbol('DBL_PHISH')
      .toHaveSymbolOption('DBL_PHISH', 'uri:phisher.co.uk');
  });

  it('finds links in an HTML-only message and through ctx.message.text()', async () => {
    const msg = buildMessage({ html: '<a href="http&#58;//spammer.com/">x</a>' });
    expectVerdict(await runPlugin(plugin({ lists: [dbl()] }), msg, clean)).toHaveSymbol('DBL_SPAM');
    const textMsg = buildMessage({ text: 'see https://phisher.co.uk/' });
    expectVerdict(
      await runPlugin(plugin({ lists: [dbl()], links: { source: 'text' } }), textMsg, clean),
    ).toHaveSymbol('DBL_PHISH');
  });

  it('reads text/* parts but not text attachments, and bounds each part by maxBytes', async () => {
    const msg = buildMessage({
      text: 'nothing here',
      attachments: [
        { filename: 'log.txt', contentType: 'text/plain', content: 'http://spammer.com/' },
        { contentType: 'text/enriched', disposition: 'inline', content: 'see http://phisher.co.uk/' },
      ],
    });
    const v = await runPlugin(plugin({ lists: [dbl()] }), msg, clean);
    expectVerdict(v).toHaveSymbol('DBL_PHISH').notToHaveSymbol('DBL_SPAM');
    const late = buildMessage({ text: `${'x'.repeat(5000)} http://spammer.com/` });
    expectVerdict(
      await runPlugin(plugin({ lists: [dbl()], links: { maxBytes: 1000 } }), late, clean),
    ).notToHaveSymbol('DBL_SPAM');
    expectVerdict(await runPlugin(plugin({ lists: [dbl()] }), late, clean)).toHaveSymbol('DBL_SPAM');
    // cut inside the link: the half host (spammer.co) is not looked up
    const cut = buildMessage({ text: `${'y '.repeat(495)}http://spammer.com/` });
    const client = new DnsListClient({ servers });
    await runPlugin(
      plugin({ client, lists: [dbl({ checks: ['uri'] })], probeAtStart: false, links: { maxBytes: 1007 } }),
      cut,
      clean,
    );
    expect(client.stats.queries).toBe(0);
  });

  it('does not look up single-label or address-literal HELO names', async () => {
    const client = new DnsListClient({ servers });
    for (const helo of ['localhost', '[192.0.2.1]', 'test']) {
      await runPlugin(
        plugin({ client, lists: [dbl({ checks: ['helo'] })], probeAtStart: false }),
        buildMessage(),
        {
          ...clean,
          helo,
        },
      );
    }
    expect(client.stats.queries).toBe(0);
  });

  it('looks up IP links in an IP list', async () => {
    const msg = buildMessage({ text: 'go to http://198.51.100.77/login now' });
    const v = await runPlugin(plugin({ lists: [zen({ checks: ['client', 'uri-ip'] })] }), msg, clean);
    expectVerdict(v).toHaveSymbol('RBL_ZEN_SBL').toHaveSymbolOption('RBL_ZEN_SBL', 'uri-ip:198.51.100.77');
  });

  it('bounds the link lookups per message', async () => {
    const links = Array.from({ length: 30 }, (_, i) => `http://site${i}.com/`).join(' ');
    const v = await runPlugin(
      plugin({ lists: [dbl()], links: { maxLookups: 5 } }),
      buildMessage({ text: links }),
      clean,
    );
    expectVerdict(v)
      .toHaveSymbol('RBL_LINKS_LIMIT', 0)
      .toHaveSymbolOption('RBL_LINKS_LIMIT', /25 link target/);
  });

  it('checks the untrusted hops of Received fields', async () => {
    const msg = buildMessage({
      headers: {
        Received: 'from relay.clean.com (relay.clean.com [192.0.2.4]) by mx.clean.com with ESMTP',
      },
    });
    const v = await runPlugin(plugin({ lists: [zen({ checks: ['client', 'received'] })] }), msg, clean);
    expectVerdict(v).toHaveSymbol('RECEIVED_ZEN_XBL', 4);
    const trusted = await runPlugin(
      plugin({ lists: [zen({ checks: ['client', 'received'] })], received: { trusted: ['192.0.2.0/28'] } }),
      msg,
      clean,
    );
    expectVerdict(trusted).notToHaveSymbol('RECEIVED_ZEN_XBL');
  });

  it('lowers the score on an allowlist hit, skips the named stages and cancels its rejects', async () => {
    const v = await runPlugin(
      [
        plugin({
          lists: [zen({ reject: 'connect' }), dnswl({ zone: 'wl.test', skip: ['spam-marker'] })],
        }),
        marker('spam-marker'),
      ],
      buildMessage(),
      { ...clean, clientAddress: '192.0.2.201' },
    );
    expectVerdict(v)
      .toAccept()
      .toHaveSymbol('DNSWL_LOW', -0.1)
      .toHaveSymbol('RBL_ZEN_SBL', 4)
      .notToHaveSymbol('MARKER_RAN');
    const other = await runPlugin(
      [plugin({ lists: [dnswl({ zone: 'wl.test', skip: ['spam-marker'] })] }), marker('spam-marker')],
      buildMessage(),
      clean,
    );
    expectVerdict(other).toHaveSymbol('MARKER_RAN');
  });

  it('turns error answers into RBL_ERROR, never a listing, and reports the list in health()', async () => {
    const engine = createEngine().use(plugin({ lists: [genericList('err.test')] }));
    await engine.start();
    expect((await engine.health()).rbl).toMatchObject({ ok: true });
    const v = await engine.scan(buildMessage(), { ...clean, clientAddress: '192.0.2.99' });
    expectVerdict(v)
      .toAccept()
      .toHaveSymbol('RBL_ERROR', 0)
      .notToHaveSymbol('RBL_ERR')
      .toHaveError('MEF_RBL_LIST_ERROR');
    expect(v.errors[0]).toMatchObject({
      stage: 'rbl',
      kind: 'protocol',
      policy: 'accept',
      disposition: 'accept',
    });
    const h = (await engine.health()).rbl;
    expect(h?.ok).toBe(false);
    expect(h?.detail).toMatch(/err\.test: error answer 127\.255\.255\.254/);
    // out of service: the next client is not looked up in that list
    const next = await engine.scan(buildMessage(), { ...clean, clientAddress: '127.0.0.2' });
    expectVerdict(next)
      .toHaveSymbolOption('RBL_ERROR', 'err.test:MEF_RBL_OUT_OF_SERVICE')
      .notToHaveSymbol('RBL_ERR');
    await engine.stop();
  });

  it('reports a list that fails its start-up probe in health()', async () => {
    const engine = createEngine().use(plugin({ lists: [zen(), genericList('broken.test')] }));
    await engine.start();
    const h = (await engine.health()).rbl;
    expect(h?.ok).toBe(false);
    expect(h?.detail).toMatch(/broken\.test: probe failed: 1\.0\.0\.127\.broken\.test is listed/);
    await engine.stop();
  });

  it('probes periodically on an unref’d timer, cleared at teardown', async () => {
    const client = new DnsListClient({ servers, cache: false });
    const spy = vi.spyOn(globalThis, 'setInterval');
    const engine = createEngine().use(plugin({ client, probeInterval: 0.05 }));
    await engine.start();
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    const afterStart = client.stats.queries;
    expect(afterStart).toBe(3); // 127.0.0.2, 127.0.0.1 and the zone's SOA
    await new Promise((r) => setTimeout(r, 180));
    expect(client.stats.queries).toBeGreaterThanOrEqual(afterStart + 6);
    expect((await engine.health()).rbl?.ok).toBe(true);
    await engine.stop();
    const afterStop = client.stats.queries;
    await new Promise((r) => setTimeout(r, 150));
    expect(client.stats.queries).toBe(afterStop);
  });
});
