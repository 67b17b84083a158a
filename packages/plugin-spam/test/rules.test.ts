import { describe, expect, it } from 'vitest';
import type { MessageFeatures } from '../src/features.js';
import { Analysis, baseDomain } from '../src/rules/analysis.js';
import { builtinRules, GTUBE } from '../src/rules/builtin.js';
import { defineRule } from '../src/rules/rule.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { features, goodHeaders } from './support/features.js';

function hit(name: string, f: MessageFeatures): false | readonly string[] {
  const rule = builtinRules.find((r) => r.name === name);
  if (!rule) throw new Error(`no rule ${name}`);
  const r = rule.test(f, new Analysis(f));
  return r === true ? [] : r;
}

const clean = features(goodHeaders, { text: 'Shall we meet at noon? Thanks, Alice' });

/** name -> a message that must hit it. The clean message must hit none. */
const cases: Record<string, MessageFeatures> = {
  GTUBE: features(goodHeaders, { text: `test ${GTUBE} end` }),
  MISSING_DATE: features(goodHeaders.replace(/^Date:.*$/m, ''), { text: 'x' }),
  INVALID_DATE: features(goodHeaders.replace(/^Date:.*$/m, 'Date: Wed, 21 Aug 2002 20:31:57 -1600'), {
    text: 'x',
  }),
  MISSING_MID: features(goodHeaders.replace(/^Message-ID:.*$/m, ''), { text: 'x' }),
  INVALID_MSGID: features(goodHeaders.replace(/^Message-ID:.*$/m, 'Message-ID: PM200011:12:45 AM'), {
    text: 'x',
  }),
  MISSING_FROM: features(goodHeaders.replace(/^From:.*$/m, 'From: undisclosed'), { text: 'x' }),
  MISSING_SUBJECT: features(goodHeaders.replace(/^Subject:.*$/m, ''), { text: 'x' }),
  FREEMAIL_REPLYTO: features(`${goodHeaders}\nReply-To: claims@hotmail.com`, { text: 'x' }),
  FROM_DISPLAY_FORGED: features(
    goodHeaders.replace(/^From:.*$/m, 'From: "service@paypal.com" <x@evil.example>'),
    {
      text: 'x',
    },
  ),
  SUBJ_ALL_CAPS: features(goodHeaders.replace(/^Subject:.*$/m, 'Subject: MAKE MONEY FAST NOW'), {
    text: 'x',
  }),
  SUBJ_SUSPICIOUS: features(goodHeaders.replace(/^Subject:.*$/m, 'Subject: Lowest mortgage rates in years'), {
    text: 'x',
  }),
  SUBJ_EXCESS_PUNCT: features(goodHeaders.replace(/^Subject:.*$/m, 'Subject: Open now!!!'), { text: 'x' }),
  BULK_MAILER: features(`${goodHeaders}\nX-Mailer: Advanced Mass Sender 4.2`, { text: 'x' }),
  HDR_8BIT_UNENCODED: features(goodHeaders.replace(/^Subject:.*$/m, 'Subject: Grüße'), { text: 'x' }),
  HDR_BAD_ENCODING: features(goodHeaders.replace(/^Subject:.*$/m, 'Subject: =?utf-8?X?abc?='), { text: 'x' }),
  PRIORITY_HIGH: features(`${goodHeaders}\nX-Priority: 1 (Highest)`, { text: 'x' }),
  TO_UNDISCLOSED: features(goodHeaders.replace(/^To:.*$/m, 'To: undisclosed-recipients:;'), { text: 'x' }),
  HTML_ONLY: features(goodHeaders, {
    html: '<p>Hello there</p>',
    text: 'Hello there',
    parts: [{ contentType: 'text/html' }],
  }),
  HTML_HIDDEN_TEXT: features(goodHeaders, {
    text: 'visible',
    html: '<p>visible</p><div style="display:none">hidden words here</div>',
    parts: [{ contentType: 'text/plain' }, { contentType: 'text/html' }],
  }),
  HTML_LINK_MISMATCH: features(goodHeaders, {
    text: 'www.mybank.com',
    html: '<a href="http://login.evil.example/x">www.mybank.com</a>',
    parts: [{ contentType: 'text/plain' }, { contentType: 'text/html' }],
  }),
  URL_SHORTENER: features(goodHeaders, { text: 'see https://bit.ly/abc' }),
  URL_IP_ADDRESS: features(goodHeaders, { text: 'see http://192.0.2.44/login' }),
  URI_NO_FROM_DOMAIN: features(goodHeaders, { text: 'see http://shop.other.example/deal' }),
  FROM_DOMAIN_NOT_RCVD: features(
    `Received: from relay.other.example (relay.other.example [192.0.2.7]) by mx.example.org\n${goodHeaders}`,
    { text: 'x' },
  ),
  HTML_IMAGE_ONLY: features(goodHeaders, {
    text: 'Buy',
    html: '<img src="http://x.example/a.gif"><img src="http://x.example/b.gif">',
    parts: [{ contentType: 'text/plain' }, { contentType: 'text/html' }],
  }),
  BODY_SPAM_PHRASES: features(goodHeaders, {
    text: 'Dear friend, click here for a risk-free offer with no obligation. Act now!',
  }),
  ATTACH_EXECUTABLE: features(goodHeaders, {
    text: 'see attached',
    parts: [
      { contentType: 'text/plain' },
      { contentType: 'application/octet-stream', filename: 'setup.exe' },
    ],
  }),
  ATTACH_DOUBLE_EXT: features(goodHeaders, {
    text: 'see attached',
    parts: [
      { contentType: 'text/plain' },
      { contentType: 'application/octet-stream', filename: 'invoice.pdf.exe' },
    ],
  }),
  ATTACH_ARCHIVE_NO_TEXT: features(goodHeaders, {
    text: '',
    parts: [{ contentType: 'application/zip', filename: 'doc.zip' }],
  }),
  ATTACH_TYPE_MISMATCH: features(goodHeaders, {
    text: 'pic',
    parts: [{ contentType: 'text/plain' }, { contentType: 'image/jpeg', filename: 'photo.scr' }],
  }),
};

describe('built-in rules', () => {
  it('every built-in rule has a case here, an UPPER_SNAKE name, a description and a finite score', () => {
    expect(Object.keys(cases).sort()).toEqual(builtinRules.map((r) => r.name).sort());
    for (const r of builtinRules) {
      expect(r.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(r.description.length).toBeGreaterThan(10);
      expect(Number.isFinite(r.score)).toBe(true);
    }
  });

  it('a clean message hits no rule', () => {
    expect(new RuleSet().run(clean).hits).toEqual([]);
  });

  for (const [name, f] of Object.entries(cases)) {
    it(`${name} hits on its example and not on the clean message`, () => {
      expect(hit(name, f)).not.toBe(false);
      expect(hit(name, clean)).toBe(false);
    });
  }

  it('gives the details as options', () => {
    expect(hit('HTML_LINK_MISMATCH', cases.HTML_LINK_MISMATCH as MessageFeatures)).toEqual([
      'www.mybank.com',
      'login.evil.example',
    ]);
    expect(hit('ATTACH_DOUBLE_EXT', cases.ATTACH_DOUBLE_EXT as MessageFeatures)).toEqual(['invoice.pdf.exe']);
  });

  it('does not call a link mismatched when text and target share the registrable domain', () => {
    const f = features(goodHeaders, {
      text: 'x',
      html: '<a href="https://click.news.example.co.uk/t?u=1">www.example.co.uk</a>',
    });
    expect(hit('HTML_LINK_MISMATCH', f)).toBe(false);
    expect(baseDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(baseDomain('www.example.com')).toBe('example.com');
  });

  it('does not count links or relays in the From domain against the sender', () => {
    const own = features(goodHeaders, {
      text: 'see https://news.example.com/a and http://shop.other.example/',
    });
    expect(hit('URI_NO_FROM_DOMAIN', own)).toBe(false);
    expect(hit('URI_NO_FROM_DOMAIN', cases.URI_NO_FROM_DOMAIN as MessageFeatures)).toEqual(['example.com']);
    const passed = features(
      `Received: from smtp.example.com (smtp.example.com [192.0.2.8]) by mx.example.org\n${goodHeaders}`,
      { text: 'x' },
    );
    expect(hit('FROM_DOMAIN_NOT_RCVD', passed)).toBe(false);
    // No Received header names a host: no evidence either way.
    expect(
      hit(
        'FROM_DOMAIN_NOT_RCVD',
        features(`Received: (qmail 1 invoked by uid 0)\n${goodHeaders}`, { text: 'x' }),
      ),
    ).toBe(false);
    expect(hit('FROM_DOMAIN_NOT_RCVD', cases.FROM_DOMAIN_NOT_RCVD as MessageFeatures)).toEqual([
      'example.com',
    ]);
  });

  it('does not call white text hidden unless the background is white too', () => {
    const dark = features(goodHeaders, {
      text: 'x',
      html: '<body bgcolor="#000000"><font color="#ffffff">white words on black</font>',
    });
    const white = features(goodHeaders, {
      text: 'x',
      html: '<body bgcolor="#ffffff"><font color="#ffffff">white words on white</font>',
    });
    expect(hit('HTML_HIDDEN_TEXT', dark)).toBe(false);
    expect(hit('HTML_HIDDEN_TEXT', white)).toEqual(['white on white']);
  });
});

describe('RuleSet configuration', () => {
  it('disables, rescores and adds rules', () => {
    const custom = defineRule({
      name: 'MENTIONS_CRYPTO',
      score: 2.5,
      area: 'body',
      description: 'Mentions crypto currency',
      test: (m) => /bitcoin/i.test(m.text),
    });
    const rs = new RuleSet({ disable: ['MISSING_DATE'], scores: { INVALID_MSGID: 4 }, rules: [custom] });
    const names = rs.rules.map((r) => r.name);
    expect(names).not.toContain('MISSING_DATE');
    expect(names).toContain('MENTIONS_CRYPTO');
    const f = features(
      goodHeaders.replace(/^Date:.*$/m, '').replace(/^Message-ID:.*$/m, 'Message-ID: nope'),
      {
        text: 'bitcoin',
      },
    );
    expect(rs.run(f).hits.map((h) => [h.name, h.score])).toEqual([
      ['INVALID_MSGID', 4],
      ['MENTIONS_CRYPTO', 2.5],
    ]);
  });

  it('starts empty with noBuiltins', () => {
    expect(new RuleSet({ noBuiltins: true }).rules).toEqual([]);
  });

  it('rejects unknown names, bad scores and bad rules with a TypeError quoting the value', () => {
    expect(() => new RuleSet({ disable: ['NOPE'] })).toThrow(/Invalid option disable: .*"NOPE"/);
    expect(() => new RuleSet({ scores: { GTUBE: Number.NaN } })).toThrow(TypeError);
    expect(() => new RuleSet({ scores: { NOPE: 1 } })).toThrow(/"NOPE"/);
    expect(
      () =>
        new RuleSet({
          rules: [{ name: 'bad name', score: 1, area: 'body', description: '', test: () => true }],
        }),
    ).toThrow(/"bad name"/);
  });

  it('reports a rule that throws instead of throwing', () => {
    const rs = new RuleSet({
      noBuiltins: true,
      rules: [
        defineRule({
          name: 'BROKEN',
          score: 1,
          area: 'body',
          description: 'always throws',
          test: () => {
            throw new Error('boom');
          },
        }),
      ],
    });
    const r = rs.run(clean);
    expect(r.hits).toEqual([]);
    expect(r.failed.map((f) => f.name)).toEqual(['BROKEN']);
  });
});
