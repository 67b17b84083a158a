import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '@mef/core/hosts';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createFeatureExtractor } from '../src/extract.js';
import { bayes, bayesSymbol } from '../src/plugins/bayes-plugin.js';
import { spamRules } from '../src/plugins/rules-plugin.js';
import { GTUBE } from '../src/rules/builtin.js';
import { eml, goodHeaders } from './support/features.js';

const ham = eml(
  goodHeaders,
  'Shall we meet at noon on Thursday? The agenda is attached.\r\nThanks, Alice\r\n',
);
const gtube = eml(goodHeaders, `This is the GTUBE test.\r\n${GTUBE}\r\n`);
const spamHtml = eml(
  `From: "Best Deals" <deals@offers.example>
To: undisclosed-recipients:;
Subject: FREE CASH BONUS FOR YOU!!!
Date: Wed, 21 Aug 2002 20:31:57 -1600
Message-ID: <x@offers.example>
MIME-Version: 1.0
Content-Type: text/html; charset=us-ascii`,
  '<html><body><p>Dear friend, click here for a risk-free offer with no obligation. Act now!</p>' +
    '<a href="http://192.0.2.7/claim">www.yourbank.com</a><div style="display:none">hidden salad words</div></body></html>\r\n',
);

describe('spamRules()', () => {
  it('scores GTUBE far above the reject threshold', async () => {
    const v = await runPlugin(spamRules(), gtube);
    expectVerdict(v).toReject().toHaveSymbol('GTUBE', 1000);
  });

  it('leaves a clean message alone', async () => {
    const v = await runPlugin(spamRules(), ham);
    expectVerdict(v).toAccept().toHaveNoErrors();
    expect(v.symbols).toEqual([]);
  });

  it('records each hit with group and options through the core views', async () => {
    const v = await runPlugin(spamRules(), spamHtml);
    const names = v.symbols.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'INVALID_DATE',
        'SUBJ_ALL_CAPS',
        'SUBJ_EXCESS_PUNCT',
        'TO_UNDISCLOSED',
        'HTML_ONLY',
        'HTML_HIDDEN_TEXT',
        'HTML_LINK_MISMATCH',
        'URL_IP_ADDRESS',
        'BODY_SPAM_PHRASES',
      ]),
    );
    expectVerdict(v).toHaveSymbolOption('URL_IP_ADDRESS', '192.0.2.7');
    expect(v.symbols.every((s) => s.group === 'spam' && s.stage === 'spam-rules')).toBe(true);
  });

  it('applies configuration: disable and rescore', async () => {
    const v = await runPlugin(spamRules({ disable: ['GTUBE'], scores: { MISSING_DATE: 3 } }), gtube);
    expectVerdict(v).notToHaveSymbol('GTUBE').toAccept();
  });

  it('validates options when the factory runs', () => {
    expect(() => spamRules({ onError: 'maybe' as 'accept' })).toThrow(/onError.*"maybe"/);
    expect(() => spamRules({ stageTimeout: -1 })).toThrow(/stageTimeout/);
  });
});

describe('bayes()', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const spamTexts = [
    'cheap pills online pharmacy',
    'win cash prize now',
    'viagra discount offer',
    'casino bonus free',
  ];
  const hamTexts = [
    'meeting agenda for thursday',
    'patch review comments',
    'lunch plans this week',
    'release notes draft',
  ];
  function corpus(n: number) {
    const items: { message: string; label: 'spam' | 'ham' }[] = [];
    for (let i = 0; i < n; i++) {
      items.push({
        message: eml(
          goodHeaders.replace('Lunch on Thursday', `Offer ${i}`),
          `${spamTexts[i % 4]} number${i}\r\n`,
        ),
        label: 'spam',
      });
      items.push({
        message: eml(
          goodHeaders.replace('Lunch on Thursday', `Notes ${i}`),
          `${hamTexts[i % 4]} item${i}\r\n`,
        ),
        label: 'ham',
      });
    }
    return items;
  }

  it('records BAYES_UNTRAINED until it has learned enough', async () => {
    const v = await runPlugin(bayes({ minLearns: 5 }), ham);
    expectVerdict(v).toHaveSymbol('BAYES_UNTRAINED', 0);
  });

  it('trains with progress, counts a message twice once, then marks spam and ham with graded scores', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mef-bayes-plugin-'));
    dirs.push(dir);
    const file = join(dir, 'bayes.json');
    const plugin = bayes({ minLearns: 10, file });
    const extractor = createFeatureExtractor();
    const progress: number[] = [];
    const items = corpus(20);
    const r = await plugin.train(items, {
      extract: (m: string) => extractor.extract(m),
      onProgress: (p) => progress.push(p.done),
    });
    expect(r).toMatchObject({ done: 40, total: 40, learned: 40, duplicates: 0, failed: 0 });
    expect(progress).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const again = await plugin.train(items.slice(0, 4), { extract: (m: string) => extractor.extract(m) });
    expect(again).toMatchObject({ learned: 0, duplicates: 4 });
    await extractor.close();
    await plugin.save();

    // A fresh plugin loads the saved model at setup.
    const loaded = bayes({ minLearns: 10, file });
    const engine = createEngine().use(loaded);
    await engine.start();
    const spamV = await engine.scan(
      eml(goodHeaders.replace('Lunch on Thursday', 'Offer'), 'cheap viagra pills casino cash prize\r\n'),
      { clientAddress: '192.0.2.1' },
    );
    const hamV = await engine.scan(
      eml(goodHeaders.replace('Lunch on Thursday', 'Notes'), 'agenda review lunch release notes\r\n'),
      { clientAddress: '192.0.2.1' },
    );
    await engine.stop();
    const s = spamV.symbols.find((x) => x.name === 'BAYES_SPAM');
    const h = hamV.symbols.find((x) => x.name === 'BAYES_HAM');
    expect(s?.score).toBeGreaterThan(2.75);
    expect(s?.options?.[0]).toMatch(/^\d+\.\d\d%$/);
    expect(h?.score).toBeLessThan(-1.5);
    expect(s?.group).toBe('bayes');
  });

  it('grades scores by probability and stays silent in the uncertain middle', () => {
    const o = { spamThreshold: 0.9, hamThreshold: 0.1, spamScore: 5.5, hamScore: -3 };
    expect(bayesSymbol(1, o)).toEqual({ name: 'BAYES_SPAM', score: 5.5, options: ['100.00%'] });
    expect(bayesSymbol(0.9, o)?.score).toBe(2.75);
    expect(bayesSymbol(0.5, o)).toBeUndefined();
    expect(bayesSymbol(0, o)).toEqual({ name: 'BAYES_HAM', score: -3, options: ['0.00%'] });
    expect(bayesSymbol(0.1, o)?.score).toBe(-1.5);
  });

  it('validates options when the factory runs', () => {
    expect(() => bayes({ spamThreshold: 0.2 })).toThrow(/spamThreshold/);
    expect(() => bayes({ file: '' })).toThrow(/file/);
    expect(() => bayes({ store: {} as never })).toThrow(/store/);
  });

  it('turns a failing store into an error finding under the accept policy', async () => {
    const broken = {
      counts: () => Promise.reject(new Error('down')),
      totals: () => Promise.resolve({ spam: 1000, ham: 1000 }),
      learn: () => Promise.reject(new Error('down')),
      forget: () => Promise.reject(new Error('down')),
    };
    const v = await runPlugin(bayes({ store: broken }), ham);
    expectVerdict(v).toAccept().toHaveError('MEF_SPAM_BAYES_STORE');
    expect(v.errors[0]?.policy).toBe('accept');
  });
});
