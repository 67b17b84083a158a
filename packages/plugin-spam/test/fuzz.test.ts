import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenIds, tokenize } from '../src/bayes/tokenizer.js';
import { parseRspamdReply } from '../src/clients/rspamd-client.js';
import { parseAnswer, parseSpamdReport } from '../src/clients/spamd-client.js';
import { RuleSet } from '../src/rules/rule-set.js';
import { features } from './support/features.js';

const rules = new RuleSet();
const htmlish = fc.array(
  fc.constantFrom(
    '<a href="http://',
    '">',
    '</a>',
    '<img src=x>',
    '<font color="#ffffff">',
    'style="display:none"',
    '<body bgcolor=white>',
    'www.example.com',
    '192.0.2.1',
    ' ',
    '=?utf-8?q?',
    '?=',
    'click here',
    'x'.repeat(50),
    '<',
    '>',
    '"',
    "'",
  ),
  { maxLength: 300 },
);

describe('fuzz', () => {
  it('rules and the tokenizer never throw on arbitrary headers, text and HTML', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 2000 }),
        htmlish,
        (hdr, text, html) => {
          const f = features(
            `From: ${hdr}\nSubject: ${hdr}\nReply-To: ${hdr}\nDate: ${hdr}\nMessage-ID: ${hdr}`,
            {
              text,
              html: html.join(''),
            },
          );
          const r = rules.run(f);
          expect(r.failed).toEqual([]);
          expect(tokenIds(f).length).toBe(tokenize(f).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays fast on hostile HTML (no catastrophic backtracking)', () => {
    const hostile = [
      '<a href="http://x">'.repeat(20_000),
      `<font color="#ffffff"${' a=b'.repeat(50_000)}`,
      `${'<a href='.repeat(30_000)}`,
      `style="display:none${' '.repeat(100_000)}`,
      `<img${' '.repeat(200_000)}`,
      `http://${'a.'.repeat(100_000)}`,
    ];
    for (const html of hostile) {
      const f = features('From: a@b.example\nSubject: x', { text: html, html });
      // CPU time of this test process (vitest runs each file in a process of its own), not wall
      // clock: backtracking is CPU work, and a machine busy with other work must not fail this.
      const t0 = process.cpuUsage();
      rules.run(f);
      tokenIds(f);
      const used = process.cpuUsage(t0);
      expect((used.user + used.system) / 1000).toBeLessThan(2000);
    }
  });

  it('reply parsers turn any input into a result or a coded error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          parseAnswer('REPORT', Buffer.from(bytes), false);
        } catch (err) {
          expect((err as { code?: string }).code).toMatch(/^MEF_SPAM_SPAMD_/);
        }
        parseSpamdReport(Buffer.from(bytes).toString('latin1'));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        try {
          parseRspamdReply(json);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('MEF_SPAM_RSPAMD_PROTOCOL');
        }
      }),
      { numRuns: 300 },
    );
  });
});
