/**
 * The relay beside Postfix, same run, same client, same sink: Postfix's `smtp-source` sends
 * 1,000 messages of 10 KB over 10 sessions to each, and both hand everything to the same
 * `smtp-sink`. The relay is the product: `mef relay --config FILE` from the sources, with its
 * default `relay.workers` (one process per CPU; Postfix, too, serves with several processes),
 * or `MEF_BENCH_WORKERS`. The rate is messages delivered at the sink per second (the relay
 * answers 250 only after the sink accepted; Postfix queues first, so its clock stops at the last
 * file the sink wrote). Added latency: the relay's own time per transaction from the first byte
 * of DATA to the verdict (`scanMs` of its log line: the scan with the default filters, no
 * clamd), p99.
 *
 *   cd bench && node --import tsx --conditions=@mef/source src/relay-postfix.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { smtpSource, startPostfix, startSink } from '@mef/test-servers';
import { machineLine, median, table } from './machine.js';

const WORKERS = Number(process.env.MEF_BENCH_WORKERS ?? availableParallelism());

const MESSAGES = Number(process.env.MEF_BENCH_MESSAGES ?? 1000);
const RUNS = Number(process.env.MEF_BENCH_RUNS ?? 3);
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
        workers: WORKERS,
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
      '--import',
      'tsx',
      '--conditions=@mef/source',
      join(cli, 'src', 'bin.ts'),
      'relay',
      '--config',
      file,
    ],
    { cwd: dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const scanMs: number[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l) scanMs.push((JSON.parse(l) as { scanMs: number }).scanMs);
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
    scanMs,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const sink = await startSink({ backlog: 256 });
  const sinkPort = sink.port;
  const files = () => readdirSync(sink.dir).length;
  const relay = await startRelay(sinkPort);
  const smtp = relay.port;
  const scanMs = relay.scanMs;
  // A private Postfix relaying a.test to the sink (the set-up of /work/shared/SERVERS.md).
  const postfix = await startPostfix({
    relayhost: `[127.0.0.1]:${sinkPort}`,
    relayDomains: ['a.test'],
    hostname: 'postfix.bench',
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  const loads: number[] = [];
  try {
    // One warm-up round each (JIT, Postfix's first process start), not counted.
    await source(smtp);
    await source(postfix.port);
    for (const until = Date.now() + 120_000; files() < 2 * MESSAGES && Date.now() < until; ) await sleep(20);
    scanMs.length = 0;
    for (let run = 0; run < RUNS; run++) {
      let before = files();
      loads.push(loadavg()[0] as number);
      let t0 = performance.now();
      await source(smtp);
      ours.push(MESSAGES / ((performance.now() - t0) / 1000));
      if (files() - before < MESSAGES)
        throw new Error(`relay run ${run}: the sink has ${files() - before} of ${MESSAGES}`);
      before = files();
      t0 = performance.now();
      await source(postfix.port);
      for (const until = Date.now() + 120_000; files() - before < MESSAGES && Date.now() < until; )
        await sleep(20);
      theirs.push(MESSAGES / ((performance.now() - t0) / 1000));
    }
  } finally {
    await relay.stop();
    await postfix.stop();
    await sink.stop();
  }
  const sorted = [...scanMs].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const m = median(ours);
  const p = median(theirs);
  const lines = [
    '# Relay beside Postfix',
    '',
    `smtp-source, 10 sessions, ${MESSAGES} messages of 10 KB, to each; both hand on to the same smtp-sink. Median of ${RUNS} runs.`,
    '',
    table(
      ['host', 'delivered msg/s (median)', 'runs'],
      [
        [
          `mef relay, ${WORKERS} worker${WORKERS === 1 ? '' : 's'} (default filters, no clamd)`,
          m.toFixed(0),
          ours.map((x) => x.toFixed(0)).join(', '),
        ],
        ['Postfix 3.7 (relayhost)', p.toFixed(0), theirs.map((x) => x.toFixed(0)).join(', ')],
      ],
    ),
    '',
    `Ratio MEF/Postfix: ${(m / p).toFixed(2)}. Relay time from the first byte of DATA to the verdict: p50 ${p50} ms, p99 ${p99} ms (${sorted.length} transactions). Load average (1 min) at the start of each run: ${loads
      .map((x) => x.toFixed(1))
      .join(', ')}; at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')}.`,
    '',
    machineLine(),
    '',
  ].join('\n');
  console.log(lines);
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'relay.md');
  writeFileSync(out, lines);
}

await main();
