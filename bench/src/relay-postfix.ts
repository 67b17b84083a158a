/**
 * The relay beside Postfix, same run, same client, same sink: Postfix's `smtp-source` sends
 * 1,000 messages of 10 KB over 10 sessions to each, and both hand everything to the same
 * `smtp-sink`. The rate is messages delivered at the sink per second (the relay answers 250
 * only after the sink accepted; Postfix queues first, so its clock stops at the last file the
 * sink wrote). Added latency: the relay's own time per transaction from the first byte of DATA
 * to the verdict (the scan with the default filters, no clamd), p99.
 *
 *   pnpm --filter @mef/bench exec tsx --conditions=@mef/source src/relay-postfix.ts
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRelay } from '@mef/relay';
import { smtpSource, startPostfix, startSink } from '@mef/test-servers';
import { machineLine, median, table } from './machine.js';

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

async function main(): Promise<void> {
  const sink = await startSink({ backlog: 256 });
  const sinkPort = sink.port;
  const files = () => readdirSync(sink.dir).length;
  const scanMs: number[] = [];
  const relay = createRelay(
    {
      bayes: { enabled: false },
      relay: {
        listen: { host: '127.0.0.1', port: 0 },
        hostname: 'relay.bench',
        domains: { 'a.test': { destination: `127.0.0.1:${sinkPort}` } },
      },
    },
    { log: { info: (o) => scanMs.push((o as { scanMs: number }).scanMs) } },
  );
  const { smtp } = await relay.listen();
  // A private Postfix relaying a.test to the sink (the set-up of /work/shared/SERVERS.md).
  const postfix = await startPostfix({
    relayhost: `[127.0.0.1]:${sinkPort}`,
    relayDomains: ['a.test'],
    hostname: 'postfix.bench',
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  /** This process's CPU time (user + system) per relayed message, ms: the relay's own cost, which the machine's load changes far less than a rate. */
  const cpuMs: number[] = [];
  try {
    // One warm-up round each (JIT, Postfix's first process start), not counted.
    await source(smtp);
    await source(postfix.port);
    for (const until = Date.now() + 120_000; files() < 2 * MESSAGES && Date.now() < until; ) await sleep(20);
    scanMs.length = 0;
    for (let run = 0; run < RUNS; run++) {
      let before = files();
      let t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await source(smtp);
      ours.push(MESSAGES / ((performance.now() - t0) / 1000));
      const cpu = process.cpuUsage(cpu0);
      cpuMs.push((cpu.user + cpu.system) / 1000 / MESSAGES);
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
    await relay.close();
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
        ['MEF relay (default filters, no clamd)', m.toFixed(0), ours.map((x) => x.toFixed(0)).join(', ')],
        ['Postfix 3.7 (relayhost)', p.toFixed(0), theirs.map((x) => x.toFixed(0)).join(', ')],
      ],
    ),
    '',
    `Ratio MEF/Postfix: ${(m / p).toFixed(2)}. Relay time from the first byte of DATA to the verdict: p50 ${p50} ms, p99 ${p99} ms (${sorted.length} transactions). Relay CPU per message (user + system, median of the runs): ${median(cpuMs).toFixed(2)} ms. Load average at the end: ${loadavg()
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
