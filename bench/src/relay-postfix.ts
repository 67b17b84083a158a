/**
 * The relay beside Postfix, same run, same client, same sink: Postfix's `smtp-source` sends
 * 1,000 messages of 10 KB over 10 sessions to each, and both hand everything to the same
 * `smtp-sink`. The relay is the product: `mef relay --config FILE` from the sources, with its
 * default `relay.workers` (`auto`: one process per CPU, the kernel spreading the connections),
 * or `MEF_BENCH_WORKERS` and `MEF_BENCH_SCHEDULING`. The rate is messages delivered at the sink
 * per second (the relay answers 250 only after the sink accepted; Postfix queues first, so its
 * clock stops at the last file the sink wrote). Added latency: the relay's own time per transaction from the first byte
 * of DATA to the verdict (`scanMs` of its log line: the scan with the default filters, no
 * clamd), p50 and p99; beside it, from the message's last byte to the verdict (`afterLastByteMs`:
 * what the scan adds once the sender has sent everything) and from the last byte to the
 * destination's answer (`afterLastByteMs + destinationMs`: how long the sender waits for its 250
 * beyond the upload, the destination's own time included). Then the latency the relay ADDS, seen
 * by a sender (`smtp-latency.ts`): the wait from the last byte to the 250, straight to the sink,
 * through the relay and through Postfix, at one session (unsaturated), at 10 sessions paced at
 * half of Postfix's rate, and at 10 sessions as fast as they go (saturated).
 *
 *   cd bench && node --import tsx --conditions=@mef/source src/relay-postfix.ts
 *
 * Method: WARMUP rounds of the same load to each first, not counted (after a single round of
 * 1,000 the relay's first counted run used up to twice the CPU per message of the later ones; a
 * relay runs for days, so its steady state is the fair comparison, and Postfix gets the same
 * rounds). Then RUNS pairs of
 * runs, the relay first in even pairs and Postfix first in odd ones, so neither side always
 * follows the other; the ratio of the two medians is printed, and beside it the median of the
 * ratios of each pair (the two runs closest in time, so under the most similar load).
 *
 * Environment: MEF_BENCH_RUNS (5), MEF_BENCH_WARMUP (3: rounds of warm-up to each),
 * MEF_BENCH_MESSAGES (1000), MEF_BENCH_PROBE (300: messages per unsaturated latency probe), MEF_BENCH_WORKERS (unset: the relay's default, auto),
 * MEF_BENCH_SCHEDULING (unset: the relay's default `relay.scheduling`, kernel),
 * MEF_BENCH_THREADS (unset: the relay's default `relay.threads`), MEF_BENCH_CLI=dist (the built
 * CLI), MEF_BENCH_NODE_ARGS (node flags for the relay).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { relayThreadCount, relayWorkerCount } from '@mef/relay';
import { smtpSource, startPostfix, startSink } from '@mef/test-servers';
import { machineLine, median, table } from './machine.js';
import { lastByteTo250, quantile } from './smtp-latency.js';

/** `MEF_BENCH_WORKERS` sets `relay.workers`; unset, the relay runs with its default (`auto`). */
const WORKERS_SET = process.env.MEF_BENCH_WORKERS ? Number(process.env.MEF_BENCH_WORKERS) : undefined;
const WORKERS = relayWorkerCount(WORKERS_SET, availableParallelism());
/** `MEF_BENCH_SCHEDULING` sets `relay.scheduling` (`kernel` or `round-robin`); unset, the default (kernel). */
const SCHEDULING = process.env.MEF_BENCH_SCHEDULING;
/** `MEF_BENCH_THREADS` sets `relay.threads` (`auto` or a number); unset, the relay's default. */
const THREADS_SET = process.env.MEF_BENCH_THREADS
  ? process.env.MEF_BENCH_THREADS === 'auto'
    ? ('auto' as const)
    : Number(process.env.MEF_BENCH_THREADS)
  : undefined;
const THREADS = relayThreadCount(THREADS_SET, availableParallelism());

/**
 * `MEF_BENCH_CLI=dist` runs the built `mef` (`packages/cli/dist/bin.js`, what the npm package
 * installs; build it first) instead of the sources through tsx.
 */
const BUILT = process.env.MEF_BENCH_CLI === 'dist';
const MESSAGES = Number(process.env.MEF_BENCH_MESSAGES ?? 1000);
const RUNS = Number(process.env.MEF_BENCH_RUNS ?? 5);
/** Rounds of the same load sent to each before the counted runs (see the method above). */
const WARMUP = Number(process.env.MEF_BENCH_WARMUP ?? 3);
/** Messages per probe of the unsaturated latency (one session), sent twice to each target. */
const PROBE = Number(process.env.MEF_BENCH_PROBE ?? 300);
async function source(port: number): Promise<void> {
  const args = [
    '-s',
    '10',
    '-m',
    String(MESSAGES),
    '-l',
    '10240',
    '-f',
    'sender@example.test',
    '-t',
    'x@a.test',
  ];
  const r = await smtpSource(args, port);
  if (r.status !== 0) throw new Error(`smtp-source exited ${r.status}: ${r.output}`);
}

/**
 * CPU seconds used so far by a process and its children (`mef relay`'s primary and its workers;
 * Postfix's master and its daemons), from /proc: user + system clock ticks (the usual 100 per
 * second) of the process, of the children it has reaped, and of its live children.
 */
function treeCpu(pid: number): number {
  const stat = (p: string) => {
    const f = (readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  };
  let ticks = stat(String(pid)).ticks;
  for (const d of processes()) {
    try {
      const s = stat(d);
      if (s.ppid === pid) ticks += s.ticks;
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100;
}

function processes(): string[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
}

/** The pid of the Postfix master whose queue is in `dir` (Postfix's daemons run in their queue folder). */
function postfixMaster(dir: string): number | undefined {
  for (const d of processes()) {
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'master') continue;
      if (realpathSync(`/proc/${d}/cwd`) === realpathSync(join(dir, 'queue'))) return Number(d);
    } catch {
      // not ours, or gone
    }
  }
  return undefined;
}

/** The times of one transaction line of the relay's log, ms. */
interface TimesLine {
  scanMs: number;
  afterLastByteMs: number;
  destinationMs: number;
}

function percentiles(xs: readonly number[]): string {
  return `p50 ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms`;
}

/** `mef relay` from the sources, as a user runs it; resolves with its port and its log lines. */
async function startRelay(sinkPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'mef-bench-relay-'));
  const file = join(dir, 'mef.json');
  writeFileSync(
    file,
    JSON.stringify({
      bayes: { enabled: false },
      relay: {
        listen: { host: '127.0.0.1', port: 0 },
        hostname: 'relay.bench',
        ...(WORKERS_SET === undefined ? {} : { workers: WORKERS_SET }),
        ...(SCHEDULING === undefined ? {} : { scheduling: SCHEDULING }),
        ...(THREADS_SET === undefined ? {} : { threads: THREADS_SET }),
        domains: { 'a.test': { destination: `127.0.0.1:${sinkPort}` } },
      },
    }),
  );
  const cli = dirname(createRequire(import.meta.url).resolve('@mef/cli/package.json'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // Extra node flags for the relay's processes, such as `--cpu-prof` (its workers inherit them).
      ...(process.env.MEF_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...(BUILT
        ? [join(cli, 'dist', 'bin.js')]
        : ['--import', 'tsx', '--conditions=@mef/source', join(cli, 'src', 'bin.ts')]),
      'relay',
      '--config',
      file,
    ],
    { cwd: dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const times: TimesLine[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l) times.push(JSON.parse(l) as TimesLine);
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  for (let i = 0; i < 2400 && !/listening on/.test(err) && child.exitCode === null; i++) await sleep(25);
  const m = /listening on [^ ]+:(\d+)/.exec(err);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`mef relay did not start: ${err}`);
  }
  return {
    port: Number(m[1]),
    times,
    cpu: () => treeCpu(child.pid as number),
    async stop() {
      const exited = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The sender's waits (ms) of one latency probe to each target, and each target's rate (msg/s). */
interface Probe {
  direct: number[];
  relay: number[];
  postfix: number[];
  rates: number[];
}

const noProbe = (): Probe => ({ direct: [], relay: [], postfix: [], rates: [] });

/** A row of the latency table: both quantiles of each target, and their differences. */
function latencyRow(what: string, x: Probe): string[] {
  const q = (xs: number[]) => [quantile(xs, 0.5), quantile(xs, 0.99)] as const;
  const [d50, d99] = q(x.direct);
  const [r50, r99] = q(x.relay);
  const [p50, p99] = q(x.postfix);
  const f = (a: number, b: number) => `${a.toFixed(2)} / ${b.toFixed(2)} ms`;
  return [what, f(d50, d99), f(r50, r99), f(p50, p99), f(r50 - d50, r99 - d99), f(p50 - d50, p99 - d99)];
}

async function main(): Promise<void> {
  const sink = await startSink({ backlog: 256 });
  const sinkPort = sink.port;
  const files = () => readdirSync(sink.dir).length;
  const relay = await startRelay(sinkPort);
  const smtp = relay.port;
  // A private Postfix relaying a.test to the sink (the set-up of /work/shared/SERVERS.md).
  const postfix = await startPostfix({
    relayhost: `[127.0.0.1]:${sinkPort}`,
    relayDomains: ['a.test'],
    hostname: 'postfix.bench',
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  const loads: string[] = [];
  const cpuPerMessage: number[] = [];
  const postfixCpu: number[] = [];
  const master = postfixMaster(postfix.dir);
  const load = () => (loadavg()[0] as number).toFixed(1);
  let rateLines = 0;
  let warmLines = 0;
  // The sender's wait after its last byte, straight to the sink, through the relay and through
  // Postfix (its 250 comes once the message is in its queue), one target after the other.
  const probe = async (sessions: number, count: number, pace?: number): Promise<Probe> => {
    const d = await lastByteTo250(sinkPort, sessions, count, pace);
    const r = await lastByteTo250(smtp, sessions, count, pace);
    const pf = await lastByteTo250(postfix.port, sessions, count, pace);
    return { direct: d.ms, relay: r.ms, postfix: pf.ms, rates: [d.perSecond, r.perSecond, pf.perSecond] };
  };
  let quiet = noProbe();
  let paced = noProbe();
  let busy = noProbe();
  let pace = 0;
  try {
    // Warm-up rounds to each (JIT, Postfix's first process starts), not counted.
    for (let i = 0; i < WARMUP; i++) {
      await source(smtp);
      await source(postfix.port);
    }
    for (const until = Date.now() + 120_000; files() < 2 * WARMUP * MESSAGES && Date.now() < until; )
      await sleep(20);
    warmLines = relay.times.length;
    const relayRun = async (run: number) => {
      const before = files();
      const start = load();
      const cpu0 = relay.cpu();
      const t0 = performance.now();
      await source(smtp);
      ours.push(MESSAGES / ((performance.now() - t0) / 1000));
      cpuPerMessage.push(((relay.cpu() - cpu0) * 1000) / MESSAGES);
      loads.push(`${start} to ${load()}`);
      if (files() - before < MESSAGES)
        throw new Error(`relay run ${run}: the sink has ${files() - before} of ${MESSAGES}`);
    };
    const postfixRun = async () => {
      const before = files();
      const pcpu0 = master ? treeCpu(master) : 0;
      const t0 = performance.now();
      await source(postfix.port);
      for (const until = Date.now() + 120_000; files() - before < MESSAGES && Date.now() < until; )
        await sleep(20);
      theirs.push(MESSAGES / ((performance.now() - t0) / 1000));
      if (master) postfixCpu.push(((treeCpu(master) - pcpu0) * 1000) / MESSAGES);
    };
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        await relayRun(run);
        await postfixRun();
      } else {
        await postfixRun();
        await relayRun(run);
      }
    }
    // The log lines of the rate runs (the log is written in batches of at most 200 ms).
    await sleep(400);
    rateLines = relay.times.length;
    // One session, twice to each (unsaturated).
    const [q1, q2] = [await probe(1, PROBE), await probe(1, PROBE)];
    quiet = {
      direct: [...q1.direct, ...q2.direct],
      relay: [...q1.relay, ...q2.relay],
      postfix: [...q1.postfix, ...q2.postfix],
      rates: [],
    };
    // 10 sessions at half of Postfix's median delivered rate of this invocation: concurrent, but
    // below what either can take, as a relay runs most of the time.
    pace = Math.round(median(theirs) / 2);
    paced = await probe(10, MESSAGES, pace);
    // 10 sessions as fast as they go (saturated).
    busy = await probe(10, MESSAGES);
  } finally {
    await relay.stop();
    await postfix.stop();
    await sink.stop();
  }
  // The log's lines arrive in batches (at most 200 ms apart; the wait for Postfix's warm-up
  // deliveries is longer): the warm-up's are the first WARMUP * MESSAGES.
  const measured = relay.times.slice(Math.max(warmLines, WARMUP * MESSAGES), rateLines);
  const scan = percentiles(measured.map((t) => t.scanMs));
  const afterLast = percentiles(measured.map((t) => t.afterLastByteMs));
  const held = percentiles(measured.map((t) => t.afterLastByteMs + t.destinationMs));
  const m = median(ours);
  const p = median(theirs);
  const pairs = ours.map((x, i) => x / (theirs[i] as number));
  const lines = [
    '# Relay beside Postfix',
    '',
    `smtp-source, 10 sessions, ${MESSAGES} messages of 10 KB, to each; both hand on to the same smtp-sink. ${WARMUP} warm-up round${WARMUP === 1 ? '' : 's'} to each, not counted, then ${RUNS} runs to each, in pairs (the relay first in the 1st, 3rd, ... pair, Postfix first in the others).`,
    '',
    table(
      ['host', 'delivered msg/s (median)', 'runs'],
      [
        [
          `mef relay ${BUILT ? '(built)' : '(sources, tsx)'}, ${WORKERS} worker${WORKERS === 1 ? '' : 's'}${WORKERS_SET === undefined ? ' (the default, auto)' : ''}${WORKERS > 1 ? `, ${SCHEDULING ?? 'kernel'} scheduling${SCHEDULING === undefined ? ' (the default)' : ''}` : ''}, ${THREADS ? `the message phase in ${THREADS} thread${THREADS === 1 ? '' : 's'}` : 'the message phase on the event loop'}${THREADS_SET === undefined ? ' (the default)' : ''} (default filters, no clamd)`,
          m.toFixed(0),
          ours.map((x) => x.toFixed(0)).join(', '),
        ],
        ['Postfix 3.7 (relayhost)', p.toFixed(0), theirs.map((x) => x.toFixed(0)).join(', ')],
      ],
    ),
    '',
    `Ratio MEF/Postfix: ${(m / p).toFixed(2)} (of the medians); median of the ${RUNS} pairs' ratios ${median(pairs).toFixed(2)} (${pairs.map((x) => x.toFixed(2)).join(', ')}). The relay's processes used ${cpuPerMessage
      .map((x) => x.toFixed(2))
      .join(', ')} ms of CPU per message in each run; Postfix's (master and daemons) ${
      postfixCpu.length ? postfixCpu.map((x) => x.toFixed(2)).join(', ') : 'not found'
    } ms.`,
    '',
    `Relay times (${measured.length} transactions): from the first byte of DATA to the verdict ${scan}; from the last byte of the message to the verdict ${afterLast}; from the last byte to the destination's answer ${held}.`,
    '',
    "The sender's wait from its last byte (the final dot) to the 250, timed by the bench's own client (one 10 KB message per connection), straight to the smtp-sink, through the relay to the same sink and through Postfix (which answers once the message is in its queue, and hands it to the same sink later), in the same run. What each adds is the difference of the quantiles (the sets of messages are different ones, so it is not a quantile of per-message differences). One session is the unsaturated case (one message at a time); 10 sessions at half of Postfix's rate are concurrent but below what either can take; 10 sessions as fast as they go saturate the machine, so their p99 is mostly queueing: Postfix's own figure is beside the relay's for that reason.",
    '',
    table(
      [
        'load',
        'straight to smtp-sink, p50 / p99',
        'through mef relay, p50 / p99',
        'through Postfix, p50 / p99',
        'added by the relay (difference), p50 / p99',
        'added by Postfix (difference), p50 / p99',
      ],
      [
        latencyRow(`1 session, 2 x ${PROBE} messages to each (unsaturated)`, quiet),
        latencyRow(
          `10 sessions, ${MESSAGES} messages to each at ${pace} msg/s (half of Postfix's median rate above)`,
          paced,
        ),
        latencyRow(
          `10 sessions, ${MESSAGES} messages to each (saturated: ${busy.rates.map((x) => x.toFixed(0)).join(', ')} msg/s)`,
          busy,
        ),
      ],
    ),
    '',
    `Load average (1 min) over each relay run: ${loads.join('; ')}; at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')}.`,
    '',
    machineLine(),
    '',
  ].join('\n');
  console.log(lines);
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'relay.md');
  // The notes written by hand below the figures (from `## Notes` on) stay.
  const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const notes = old.indexOf('\n## Notes');
  writeFileSync(out, notes >= 0 ? `${lines}${old.slice(notes)}` : lines);
}

await main();
