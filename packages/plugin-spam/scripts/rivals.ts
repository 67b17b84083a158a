/**
 * The rivals of the time-split evaluation, trained the same way as MEF: spamd (SpamAssassin
 * with Bayes learned by `sa-learn`) and rspamd (Bayes in Redis learned by `rspamc learn_spam`
 * and `learn_ham`). Each runs as a real server on loopback, started and stopped here.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedis, startRspamd, startSpamd, which } from '@mef/test-servers';
import type { CorpusMessage } from '@mef/test-servers/corpus';
import { RspamdClient } from '../src/clients/rspamd-client.js';
import { SpamdClient } from '../src/clients/spamd-client.js';
import { type Figures, figures } from './evaluation.js';

const run = promisify(execFile);

/** One rival's result on the test messages. */
export interface RivalResult {
  readonly name: string;
  readonly figures: Figures;
  readonly trainSeconds: number;
  readonly scanSeconds: number;
  /** Messages the rival could not scan (counted as not flagged). */
  readonly failed: number;
  /** Each test message's verdict, as `folder/id` (saved for later reports: scripts/rival-verdicts.ts). */
  readonly verdicts: readonly RivalVerdict[];
}

/** One message's verdict from a rival. */
export interface RivalVerdict {
  /** `folder/file name` of the corpus message. */
  readonly key: string;
  readonly label: 'spam' | 'ham';
  readonly flagged: boolean;
  /** True when the rival could not scan it (then not flagged). */
  readonly failed: boolean;
}

/** Writes the training messages one file each, under `work/spam` and `work/ham`. */
async function writeClasses(work: string, messages: readonly CorpusMessage[]): Promise<void> {
  for (const label of ['spam', 'ham'] as const) {
    const dir = join(work, label);
    await mkdir(dir, { recursive: true });
    for (const m of messages) {
      if (m.label === label) await writeFile(join(dir, `${m.folder}.${m.id}`), m.raw);
    }
  }
}

/** Runs `worker` over `items`, `limit` at a time. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await worker(items[next++] as T);
    }),
  );
}

async function scanAll(
  test: readonly CorpusMessage[],
  flag: (m: CorpusMessage) => Promise<boolean>,
): Promise<{ figures: Figures; failed: number; seconds: number; verdicts: RivalVerdict[] }> {
  const verdicts: RivalVerdict[] = [];
  const t0 = performance.now();
  await pool(test, 2, async (m) => {
    let flagged = false;
    let failed = false;
    try {
      flagged = await flag(m);
    } catch {
      failed = true;
    }
    verdicts.push({ key: `${m.folder}/${m.id}`, label: m.label, flagged, failed });
  });
  verdicts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    figures: figures(verdicts.map((v) => ({ label: v.label, marked: v.flagged }))),
    failed: verdicts.filter((v) => v.failed).length,
    seconds: (performance.now() - t0) / 1000,
    verdicts,
  };
}

/** spamd with SpamAssassin's rules and a Bayes database learned by `sa-learn`; flagged = spamd's own verdict (score >= 5). */
export async function spamdRival(
  train: readonly CorpusMessage[],
  test: readonly CorpusMessage[],
  log: (s: string) => void,
): Promise<RivalResult> {
  const saLearn = which('sa-learn');
  if (!saLearn) throw new Error('sa-learn is not installed (apt-get install spamassassin spamd spamc)');
  const server = await startSpamd({ bayes: true });
  const work = await mkdtemp(join(tmpdir(), 'mef-salearn-'));
  try {
    await writeClasses(work, train);
    const t0 = performance.now();
    for (const cls of ['spam', 'ham'] as const) {
      log(`sa-learn --${cls} (${(await readdir(join(work, cls))).length} messages)`);
      await run(
        saLearn,
        [
          `--siteconfigpath=${join(server.dir, 'site')}`,
          `--prefspath=${join(work, 'user_prefs')}`,
          `--${cls}`,
          join(work, cls),
        ],
        { maxBuffer: 1 << 24, timeout: 1_800_000 },
      );
    }
    // spamd runs as nobody: let it read what root's sa-learn wrote.
    for (const f of await readdir(join(server.dir, 'bayes')))
      await chmod(join(server.dir, 'bayes', f), 0o666);
    const trainSeconds = (performance.now() - t0) / 1000;
    const client = new SpamdClient({ port: server.port, scanTimeout: 60_000 });
    log(`spamd scanning ${test.length} messages`);
    const r = await scanAll(test, async (m) => (await client.scan('SYMBOLS', m.raw)).spam);
    return { name: 'spamd', ...r, trainSeconds, scanSeconds: r.seconds };
  } finally {
    await rm(work, { recursive: true, force: true });
    await server.stop();
  }
}

/** rspamd with its Bayes in Redis, learned with `rspamc learn_spam` / `learn_ham`; flagged = action add header, rewrite subject or reject. */
export async function rspamdRival(
  train: readonly CorpusMessage[],
  test: readonly CorpusMessage[],
  log: (s: string) => void,
): Promise<RivalResult> {
  const rspamc = which('rspamc');
  if (!rspamc) throw new Error('rspamc is not installed (apt-get install rspamd)');
  const redis = await startRedis();
  const work = await mkdtemp(join(tmpdir(), 'mef-rspamc-'));
  let server: Awaited<ReturnType<typeof startRspamd>> | undefined;
  try {
    server = await startRspamd({ bayesRedisPort: redis.port });
    await writeClasses(work, train);
    const t0 = performance.now();
    for (const cls of ['spam', 'ham'] as const) {
      log(`rspamc learn_${cls}`);
      await run(
        rspamc,
        ['-h', `127.0.0.1:${server.controlPort}`, '-n', '2', '-t', '60', `learn_${cls}`, join(work, cls)],
        {
          maxBuffer: 1 << 26,
          timeout: 1_800_000,
        },
      );
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const client = new RspamdClient({ port: server.port, scanTimeout: 60_000 });
    log(`rspamd scanning ${test.length} messages`);
    const spamActions = new Set(['reject', 'add header', 'rewrite subject']);
    const r = await scanAll(test, async (m) => spamActions.has((await client.check(m.raw)).action));
    return { name: 'rspamd', ...r, trainSeconds, scanSeconds: r.seconds };
  } finally {
    await rm(work, { recursive: true, force: true });
    await server?.stop();
    await redis.stop();
  }
}
