import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMessage, shapeSuite, streamSuite } from '@mef/core/testing';
import { beforeAll, describe, inject, it } from 'vitest';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { createFeatureExtractor } from '../src/extract.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { rspamd } from '../src/plugins/rspamd-plugin.js';
import { spamRules } from '../src/plugins/rules-plugin.js';
import { spamassassin } from '../src/plugins/spamassassin-plugin.js';
import { GTUBE } from '../src/rules/builtin.js';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';
import { spamassassinRules } from '../src/sa/plugin.js';

const spam = readFileSync(join(import.meta.dirname, 'fixtures', 'spam.eml'));
const api = { describe, it };
const gtube = buildMessage({ subject: 'Test', text: `This is the GTUBE, the\n${GTUBE}\n` });
const gtubePayload = { content: `This is the GTUBE, the\n${GTUBE}\n`, headers: ['Subject: Test'] };

// Rules and Bayes read only the bounded views; the suite checks they never make the engine buffer.
streamSuite(api, 'spamRules', () => spamRules(), {
  message: spam,
  expect: { symbols: ['HTML_HIDDEN_TEXT', 'HTML_LINK_MISMATCH', 'BODY_SPAM_PHRASES'] },
});
shapeSuite(api, 'spamRules', () => spamRules(), {
  payload: gtubePayload,
  expect: { disposition: 'reject', symbols: ['GTUBE'] },
});

// A Bayes model trained on a few spam and ham texts marks the spam text in every mode and shape.
const store = new MemoryStore();
const spamText = 'cheap pills online pharmacy win cash prize viagra discount casino bonus';
const hamTexts = [
  'meeting agenda for thursday',
  'patch review comments',
  'lunch plans this week',
  'release notes draft',
];
beforeAll(async () => {
  const trainer = bayes({ store, minLearns: 10 });
  const extractor = createFeatureExtractor();
  const items = [];
  for (let i = 0; i < 20; i++) {
    items.push({
      message: buildMessage({ subject: `Offer ${i}`, text: `${spamText} n${i}` }).toString(),
      label: 'spam' as const,
    });
    items.push({
      message: buildMessage({ subject: `Notes ${i}`, text: `${hamTexts[i % 4]} item${i}` }).toString(),
      label: 'ham' as const,
    });
  }
  await trainer.train(items, { extract: (m: string) => extractor.extract(m) });
  await extractor.close();
});
const trained = () => bayes({ store, minLearns: 10 });
streamSuite(api, 'bayes (trained)', trained, {
  message: buildMessage({
    subject: 'Offer',
    text: spamText,
    attachments: [{ filename: 'a.bin', content: Buffer.alloc(10_000, 3) }],
  }),
  expect: { symbols: ['BAYES_SPAM'] },
});
shapeSuite(api, 'bayes (trained)', trained, {
  payload: { content: spamText },
  expect: { symbols: ['BAYES_SPAM'] },
});

// rspamd streams the message (chunked upload) and stops at maxSize.
const rspamdPort = inject('rspamdPort');
const makeRspamd = () => rspamd({ port: rspamdPort, maxSize: 2 * 1024 * 1024 });
streamSuite(api, 'rspamd', makeRspamd, {
  message: gtube,
  expect: { disposition: 'reject', symbols: ['GTUBE', 'RSPAMD_ACTION'] },
});
shapeSuite(api, 'rspamd', makeRspamd, { payload: gtubePayload, expect: { disposition: 'reject' } });

// spamd holds at most maxSize bytes, then only counts.
const spamdPort = inject('spamdPort');
const makeSpamd = () => spamassassin({ port: spamdPort });
streamSuite(api, 'spamassassin', makeSpamd, {
  message: gtube,
  expect: { disposition: 'reject', symbols: ['SA_SPAM'] },
});
shapeSuite(api, 'spamassassin', makeSpamd, {
  payload: gtubePayload,
  expect: { disposition: 'reject', symbols: ['SA_SPAM'] },
});

// SpamAssassin's rule files run natively: one rule set loaded once, shared by every run.
const saDir = installedSaRulesDir();
if (!saDir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin (or spamd)');
const saRuleSet = loadSaRules({ dirs: [saDir] });
const makeSa = () => spamassassinRules({ ruleSet: saRuleSet });
streamSuite(api, 'spamassassinRules', makeSa, {
  message: gtube,
  expect: { disposition: 'reject', symbols: ['SA_GTUBE'] },
});
shapeSuite(api, 'spamassassinRules', makeSa, {
  payload: gtubePayload,
  expect: { disposition: 'reject', symbols: ['SA_GTUBE'] },
});
