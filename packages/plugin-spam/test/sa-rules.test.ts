import { expectVerdict, runPlugin } from '@mef/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { GTUBE } from '../src/rules/builtin.js';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import { spamassassinRuleSymbols, spamassassinRules } from '../src/sa/plugin.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';
import { eml, goodHeaders } from './support/features.js';

function installedRules(): string {
  const dir = installedSaRulesDir();
  // The rules are read from the installed SpamAssassin, never copied here: without it, fail.
  if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin (or spamd)');
  return dir;
}

let rules: SaRuleSet;
beforeAll(() => {
  rules = loadSaRules({ dirs: [installedRules()] });
});

function names(message: string): string[] {
  return rules.check(message).hits.map((h) => h.name);
}

describe('the installed SpamAssassin rules, run natively', () => {
  it('load: most rules run, every skipped one says why', () => {
    const own = rules.rules.filter((r) => !r.sub);
    expect(own.length).toBeGreaterThan(800);
    expect(rules.rules.length).toBeGreaterThan(2000);
    for (const s of rules.skipped) expect(s.reason).toMatch(/\S/);
    const reasons = rules.skipped.map((s) => s.reason).join('\n');
    expect(reasons).toMatch(/network test/);
    expect(reasons).toMatch(/eval function \w+ is not implemented/);
    // Rule types of the .cf language are all represented.
    const types = new Set(rules.rules.map((r) => r.type));
    for (const t of ['header', 'body', 'rawbody', 'uri', 'full', 'meta', 'mimeheader'])
      expect(types.has(t as never)).toBe(true);
  });

  it('GTUBE hits with its score of 1000', () => {
    const r = rules.check(eml(goodHeaders, `Test\n${GTUBE}\n`));
    expect(r.hits.find((h) => h.name === 'GTUBE')?.score).toBe(1000);
    expect(r.score).toBeGreaterThan(999);
  });

  it('missing Date, Message-ID and Subject hit MISSING_DATE, MISSING_MID and MISSING_SUBJECT', () => {
    const hits = names('From: a@example.com\nTo: b@example.org\n\nhello there\n');
    expect(hits).toEqual(expect.arrayContaining(['MISSING_DATE', 'MISSING_MID', 'MISSING_SUBJECT']));
  });

  it('an all-capitals subject hits SUBJ_ALL_CAPS; a normal one does not', () => {
    const caps = goodHeaders.replace('Subject: Lunch on Thursday', 'Subject: CHEAP PILLS FOR EVERYONE TODAY');
    expect(names(eml(caps, 'hi\n'))).toContain('SUBJ_ALL_CAPS');
    expect(names(eml(goodHeaders, 'hi\n'))).not.toContain('SUBJ_ALL_CAPS');
  });

  it('an HTML-only message hits HTML_MESSAGE and MIME_HTML_ONLY', () => {
    const html = goodHeaders.replace('text/plain', 'text/html');
    const hits = names(eml(html, '<html><body><p>Hello <b>there</b></p></body></html>\n'));
    expect(hits).toEqual(expect.arrayContaining(['HTML_MESSAGE', 'MIME_HTML_ONLY']));
  });

  it('a freemail sender hits FREEMAIL_FROM', () => {
    const from = goodHeaders.replace('alice@example.com', 'alice@hotmail.com');
    expect(names(eml(from, 'hi\n'))).toContain('FREEMAIL_FROM');
  });

  it('a clean message hits little and scores low', () => {
    const r = rules.check(eml(goodHeaders, 'See you at noon by the fountain.\n'));
    expect(r.score).toBeLessThan(2);
  });

  it('garbage input gets an answer, not a crash', () => {
    for (const junk of [
      '',
      '\n\n\n',
      'no headers at all',
      '\x00\xff'.repeat(1000),
      'Content-Type: multipart/mixed; boundary=x\n\n--x\n',
    ]) {
      expect(() => rules.check(junk)).not.toThrow();
    }
  });

  it('a long line does not make a rule backtrack for long: body lines are cut at 2,048 bytes', () => {
    const t = performance.now();
    rules.check(eml(goodHeaders, `${'a '.repeat(200_000)}\n${'x'.repeat(300_000)}\n`));
    expect(performance.now() - t).toBeLessThan(20_000);
  });
});

describe('spamassassinRules() as a stage', () => {
  it('records each hit as an SA_ symbol with the rule score, and GTUBE rejects', async () => {
    const stage = spamassassinRules({ ruleSet: rules });
    const v = await runPlugin(stage, eml(goodHeaders, `Test\n${GTUBE}\n`));
    expectVerdict(v).toReject().toHaveSymbol('SA_GTUBE', 1000);
  });

  it('skips a message over maxSize and says so', async () => {
    const stage = spamassassinRules({ ruleSet: rules, maxSize: 100 });
    const v = await runPlugin(stage, eml(goodHeaders, `${'word '.repeat(100)}\n`));
    expect(v.symbols.map((s) => s.name)).toEqual(['SA_RULES_SKIPPED_SIZE']);
  });

  it('refuses a missing folder, a bad prefix or a bad score with a TypeError that names the option', () => {
    expect(() => spamassassinRules({ dirs: ['/nonexistent/sa'] })).toThrow(/dirs/);
    expect(() => spamassassinRules({ ruleSet: rules, prefix: 'bad-prefix' })).toThrow(/prefix/);
    expect(() => spamassassinRules({ ruleSet: rules, scores: { SA_GTUBE: Number.NaN } })).toThrow(
      /scores\.SA_GTUBE/,
    );
  });

  it('gives fitted scores (mef train --sa-rules) to the symbols they name; other rules keep their own', async () => {
    const message = eml(goodHeaders.replace('Message-ID', 'X-Gone'), `Test\n${GTUBE}\n`);
    const symbols = spamassassinRuleSymbols(rules, Buffer.from(message));
    expect(symbols).toEqual(expect.arrayContaining(['SA_GTUBE', 'SA_MISSING_MID']));
    const stage = spamassassinRules({ ruleSet: rules, scores: { SA_GTUBE: 2.5, BUILTIN_RULE: 1 } });
    const v = await runPlugin(stage, message);
    expectVerdict(v).toHaveSymbol('SA_GTUBE', 2.5);
    const own = rules.rules.find((r) => r.name === 'MISSING_MID')?.score as number;
    expectVerdict(v).toHaveSymbol('SA_MISSING_MID', Math.round(own * 100) / 100);
    // The same symbols as the stage records; a message over maxSize is the skip symbol alone.
    expect(v.symbols.map((s) => s.name).sort()).toEqual([...symbols].sort());
    expect(spamassassinRuleSymbols(rules, Buffer.from(message), { maxSize: 10 })).toEqual([
      'SA_RULES_SKIPPED_SIZE',
    ]);
  });
});
