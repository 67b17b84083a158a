/**
 * Hosts: messages per second through Postfix with `mef milter` beside Postfix with rspamd's
 * milter (an `rspamd_proxy` worker with `milter = yes`), and through Haraka with
 * haraka-plugin-mef beside Haraka with its own `rspamd` plugin, in one run: the same
 * smtp-source messages, sessions and count on every side. MEF runs its built-in rules and the
 * attachment policy (the defaults of `mef scan` without Bayes); rspamd its offline rule set
 * (network modules off: no DNS, no Redis). Each filter is its own process, as deployed: `mef
 * milter --config` (the built binary), rspamd's proxy worker `count = 1` (Debian's default)
 * scanning itself (`self_scan`), its normal worker (for Haraka's plugin) `count = 1`. Haraka's
 * rspamd plugin gets `[check] local_ip, private_ip`: by default it sends no loopback client's
 * mail to rspamd. rspamd's milter answers only at end of message (no-reply flags for every other
 * command); `mef milter`'s default (`replyAt: each-command`) asks for the same flags for the
 * envelope here, since its stages act only on the message, and answers DATA (which saves Postfix
 * a 40 ms wait for the milter's delayed ACK, see results/hosts.md, session 11). MEF runs twice in each MTA: with the message phase in
 * one worker thread (as rspamd's one worker: `milter.threads: 1`; Haraka's default, `threads`
 * auto on this 2-CPU machine) and on the event loop (`mef milter`'s default; Haraka's
 * `config/mef.ini` `[main] threads=0`). Every Haraka instance has the same settings
 * (`startHaraka`: one process, no cluster) but the filter. After the rounds, the resident memory
 * (VmRSS and its peak VmHWM, from /proc) of each `mef milter` and Haraka process is printed: what
 * the thread costs.
 *
 * Each round runs every side once, each MTA's three sides back to back (the order turns from
 * round to round), so a change of the machine's load falls on all sides alike and on a MEF side
 * and its rival within seconds of each other; the ratios are given both as the ratio of the
 * sides' medians and as the median of the per-round ratios (each MEF side's round over its
 * rival's round of the same round). The defaults (300 messages a round, 12 rounds, 2,000
 * untimed messages per side first: about 2 s per Haraka side and round, 4 minutes in all) rest
 * one invocation's ratio on about 25 s of each Haraka side rather than 4: with rounds of 100
 * messages (0.8 s), a second of another job's load moved a Haraka ratio by 5 to 10%, more than
 * the difference between the filters (see results/hosts.md, session 12).
 *
 * Haraka's `queue/smtp_forward` writes the message to the sink one line per `write()` on a socket
 * without TCP_NODELAY, so the final dot waits for the sink's delayed ACK (about 40 ms a message:
 * Haraka's own behaviour, see bench/results/hosts.md, session 11). `MEF_BENCH_HARAKA_NODELAY=1`
 * (a diagnostic; it prints and writes no results file) gives every Haraka side the same
 * `nodelay` plugin, which opens Haraka's outgoing sockets with TCP_NODELAY, to see the
 * comparison without that wait.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/milter.ts [messages] [rounds] [sessions] [warm-up]
 * (the results' command: `src/milter.ts 300 12 8 2000`, the defaults)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  type SinkServer,
  smtpSource,
  startCommand,
  startHaraka,
  startPostfix,
  startRspamd,
  startSink,
  stopList,
} from '@mef/test-servers';
import { NODELAY_PLUGIN, noDelay } from './haraka-nodelay.lib.js';
import { machineLine, median, table } from './machine.js';

const count = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 12);
const sessions = Number(process.argv[4] ?? 8);
/**
 * Untimed messages per side first. A deployed filter has long reached its steady state; a
 * Node.js process needs a few hundred messages for V8 to compile its hot code (measured: `mef
 * milter` used 2.3 to 2.6 ms of CPU a message over messages 200 to 1,200, about 1.5 after 2,000),
 * and after 500 Haraka with its rspamd plugin still sped up by 8 to 18% over the next 3,600
 * (its rounds rose from 119-132 to 137-142 msg/s while the plugin's stayed flat; results/hosts.md,
 * session 12); after 2,000 its first rounds were within or near the spread of its later ones.
 */
const warmUp = Number(process.argv[5] ?? 2000);
const here = dirname(fileURLToPath(import.meta.url));
const pluginDir = dirname(createRequire(import.meta.url).resolve('haraka-plugin-mef/package.json'));

/** Haraka with `plugins`, delivering to the sink; logs only warnings. */
function haraka(plugins: string[], sinkPort: number, config: Record<string, string>, env = {}) {
  return startHaraka({
    plugins: noDelay ? ['nodelay', ...plugins] : plugins,
    sinkPort,
    config: { 'log.ini': '[main]\nlevel=warn\n', ...config },
    modules: { 'haraka-plugin-mef': pluginDir },
    ...(noDelay ? { pluginFiles: { 'nodelay.js': NODELAY_PLUGIN } } : {}),
    env,
  });
}

/** Messages the sink has stored (one file each). */
const stored = (sink: SinkServer): number => readdirSync(sink.dir).length;

/**
 * Sends `count` messages with smtp-source over `sessions` sessions; resolves with msg/s. Then
 * waits (untimed, at most 60 s) until the sink has every accepted message: Postfix delivers
 * after it accepts, and its queue still draining would slow whichever side runs next.
 */
async function load(port: number, sink: SinkServer, n = count): Promise<number> {
  const before = stored(sink);
  const started = process.hrtime.bigint();
  const args = ['-s', String(sessions), '-m', String(n), '-l', '2048', '-f', 'bench@source.test'];
  const r = await smtpSource([...args, '-t', 'user@dest.test'], port);
  if (r.status !== 0) throw new Error(`smtp-source failed: ${r.output}`);
  const rate = n / (Number(process.hrtime.bigint() - started) / 1e9);
  const until = Date.now() + 60_000;
  while (stored(sink) < before + n && Date.now() < until) await sleep(100);
  return rate;
}

/** The PIDs of the processes holding the socket listening on loopback `port` (from `ss`). */
function listeners(port: number): number[] {
  const r = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  return [...(r.stdout ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}
const listener = (port: number): number | undefined => listeners(port)[0];

/**
 * CPU time (clock ticks) of the process trees under `roots`: each process's utime + stime (all
 * its threads) plus cutime + cstime (its children that ended: Postfix's smtpd and cleanup come
 * and go), from /proc/PID/stat.
 */
function treeTicks(roots: readonly number[]): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces): state is field 3, ppid 4, utime 14.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    procs.set(Number(name), { ppid: Number(f[1]), ticks });
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (roots.includes(p)) return true;
      p = procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let sum = 0;
  for (const [pid, p] of procs) if (inTree(pid)) sum += p.ticks;
  return sum;
}

/** Busy time of the whole machine (all CPUs, clock ticks), from /proc/stat. */
function machineTicks(): number {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  return (f[1] ?? 0) + (f[2] ?? 0) + (f[3] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0) + (f[8] ?? 0);
}
const TICK_MS = 10; // CLK_TCK is 100 on Linux.

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number | undefined): { rss: number; peak: number } | undefined {
  if (!pid) return undefined;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
const loadAtStart = loadAverage();

/** Builds a package's JavaScript (the plugin Haraka loads, the `mef` binary). */
function build(name: string, env: Record<string, string> = {}): void {
  const r = spawnSync(
    'bash',
    [join(here, '..', '..', 'scripts', 'pnpm.sh'), '--filter', name, 'run', 'build'],
    { env: { ...process.env, MEF_BUILD_NO_DTS: '1', ...env }, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`building ${name} failed: ${r.stderr}`);
}
build('haraka-plugin-mef');
build('@mef/cli', { MEF_BUILD_BIN_ONLY: '1' });
const mefBin = join(here, '..', '..', 'packages', 'cli', 'dist', 'bin.js');

/** `mef milter` with `more` config lines (YAML), as its own process; resolves with its port and PID. */
async function mefMilter(more: string, home: string) {
  const file = join(home, `milter-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `milter:\n  listen: { host: 127.0.0.1, port: 0 }\n${more}bayes: { enabled: false }\n`);
  const p = await startCommand(
    process.execPath,
    [mefBin, 'milter', '--config', file],
    /listening on inet:[^ ]+:(\d+)/,
    {
      env: { PATH: process.env.PATH ?? '', MEF_HOME: home },
      timeoutMs: 60_000,
    },
  );
  return { port: Number(p.ready), pid: p.child.pid, stop: () => p.stop() };
}

const stops = stopList();
try {
  const sink = stops.add(await startSink());
  // One process per filter: rspamd's normal worker and its milter proxy `count = 1` each.
  const rspamd = await startRspamd({
    dbDir: join(tmpdir(), 'mef-bench-rspamd-db'),
    milter: true,
    workers: 1,
  });
  stops.defer(() => rspamd.stop());
  const home = await mkdtemp(join(tmpdir(), 'mef-bench-home-'));
  stops.defer(() => rm(home, { recursive: true, force: true }));
  const relayhost = `[127.0.0.1]:${sink.port}`;
  const milters = { thread: await mefMilter('  threads: 1\n', home), loop: await mefMilter('', home) };
  for (const m of Object.values(milters)) stops.defer(() => m.stop());
  const pfMef = {
    thread: stops.add(await startPostfix({ relayhost, milter: { port: milters.thread.port } })),
    loop: stops.add(await startPostfix({ relayhost, milter: { port: milters.loop.port } })),
  };
  const pfRspamd = stops.add(await startPostfix({ relayhost, milter: { port: rspamd.milterPort ?? 0 } }));
  // The plugin's default config: `threads` auto (one worker thread on 2 or more CPUs).
  const hkMef = await haraka(
    ['mef'],
    sink.port,
    { 'mef.yaml': 'bayes: { enabled: false }\n' },
    { MEF_HOME: home },
  );
  stops.defer(() => hkMef.stop());
  // The same plugin with `threads=0`: the message phase on Haraka's event loop.
  const hkMefLoop = await haraka(
    ['mef'],
    sink.port,
    { 'mef.yaml': 'bayes: { enabled: false }\n', 'mef.ini': '[main]\nthreads=0\n' },
    { MEF_HOME: home },
  );
  stops.defer(() => hkMefLoop.stop());
  const hkRspamd = await haraka(['rspamd'], sink.port, {
    'rspamd.ini': `host=127.0.0.1\nport=${rspamd.port}\n[check]\nlocal_ip=true\nprivate_ip=true\n[reject]\nspam=true\n`,
  });
  stops.defer(() => hkRspamd.stop());

  const rspamdPids = [...listeners(rspamd.port), ...listeners(rspamd.milterPort ?? 0)];
  const mtaPids = (port: number) => listeners(port);
  /** Each side: the MTA's port, the filter's processes (none when it runs inside the MTA) and the MTA's. */
  const sides: Record<string, { port: number; filter: number[]; mta: number[] }> = {
    'Postfix + mef milter, threads: 1 (the message phase in a worker thread)': {
      port: pfMef.thread.port,
      filter: milters.thread.pid ? [milters.thread.pid] : [],
      mta: mtaPids(pfMef.thread.port),
    },
    'Postfix + mef milter (default config: the message phase on the event loop)': {
      port: pfMef.loop.port,
      filter: milters.loop.pid ? [milters.loop.pid] : [],
      mta: mtaPids(pfMef.loop.port),
    },
    "Postfix + rspamd's milter (rspamd_proxy)": {
      port: pfRspamd.port,
      filter: rspamdPids,
      mta: mtaPids(pfRspamd.port),
    },
    'Haraka + haraka-plugin-mef (default: threads auto, here 1 worker thread)': {
      port: hkMef.port,
      filter: [],
      mta: mtaPids(hkMef.port),
    },
    "Haraka + haraka-plugin-mef, threads=0 (the message phase on Haraka's event loop)": {
      port: hkMefLoop.port,
      filter: [],
      mta: mtaPids(hkMefLoop.port),
    },
    'Haraka + rspamd plugin': { port: hkRspamd.port, filter: rspamdPids, mta: mtaPids(hkRspamd.port) },
  };
  const harakas = Object.entries(sides).filter(([name]) => name.startsWith('Haraka'));
  const names = Object.keys(sides);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  /** CPU ticks over the timed rounds: the filter's processes, the MTA's, the whole machine. */
  const cpu = Object.fromEntries(names.map((k) => [k, { filter: 0, mta: 0, machine: 0 }]));
  // Warm-up (not timed): V8's compiler, caches, rspamd's maps.
  if (warmUp > 0) for (const side of Object.values(sides)) await load(side.port, sink, warmUp);
  // Each round runs one MTA's three sides back to back, then the other's (the MTA that goes
  // first alternates), so each MEF side and its rival run within seconds of each other and a
  // change of the machine's load falls on both. Within an MTA each round starts at a different
  // side and every other round goes backwards: a side's processes still settling (Postfix's queue
  // manager, a collector) weigh on whichever side runs next, so no side always follows the same
  // one; over 6 rounds each side runs first, second and last equally often.
  const entries = Object.entries(sides);
  const blocks = [
    entries.filter(([n]) => n.startsWith('Postfix')),
    entries.filter(([n]) => n.startsWith('Haraka')),
  ];
  const orderOf = (block: typeof entries, r: number) =>
    block.map((_, i) => {
      const at = (i + Math.floor(r / 2)) % block.length;
      return block[r % 2 ? block.length - 1 - at : at] as (typeof entries)[number];
    });
  for (let r = 0; r < rounds; r++) {
    const round = (r % 2 ? [...blocks].reverse() : blocks).flatMap((b) => orderOf(b, r));
    for (const [name, side] of round) {
      const before = { filter: treeTicks(side.filter), mta: treeTicks(side.mta), machine: machineTicks() };
      rates[name]?.push(await load(side.port, sink));
      const c = cpu[name];
      if (c) {
        c.filter += side.filter.length ? treeTicks(side.filter) - before.filter : 0;
        c.mta += treeTicks(side.mta) - before.mta;
        c.machine += machineTicks() - before.machine;
      }
    }
  }
  const med = (k: string) => median(rates[k] ?? []);
  const rivalOf = (name: string) =>
    name.startsWith('Postfix') ? "Postfix + rspamd's milter (rspamd_proxy)" : 'Haraka + rspamd plugin';
  /** The median of `name`'s per-round ratios to its rival (round r over the rival's round r). */
  const pairedRatio = (name: string) => {
    const mine = rates[name] ?? [];
    const theirs = rates[rivalOf(name)] ?? [];
    return median(mine.map((x, r) => x / (theirs[r] ?? Number.NaN)));
  };
  const rows = names.map((name) => [
    name,
    med(name).toFixed(1),
    rivalOf(name) === name ? '1.00' : (med(name) / med(rivalOf(name))).toFixed(2),
    rivalOf(name) === name ? '1.00' : pairedRatio(name).toFixed(2),
    rates[name]?.map((r) => r.toFixed(0)).join(' ') ?? '',
  ]);
  const perMessage = (ticks: number) => ((ticks * TICK_MS) / (rounds * count)).toFixed(2);
  const cpuRows = names.map((name) => {
    const c = cpu[name] ?? { filter: 0, mta: 0, machine: 0 };
    return [
      name,
      sides[name]?.filter.length ? perMessage(c.filter) : '(in the MTA)',
      perMessage(c.mta),
      perMessage(c.machine),
    ];
  });
  const processes: [string, number | undefined][] = [
    ['mef milter, threads: 1', milters.thread.pid],
    ['mef milter (default config: the event loop)', milters.loop.pid],
    ...harakas.map(([name, side]): [string, number | undefined] => [name, listener(side.port)]),
  ];
  const mem = processes.map(([name, pid]) => {
    const m = memory(pid);
    return [name, m ? m.rss.toFixed(1) : '?', m ? m.peak.toFixed(1) : '?'];
  });
  const text = [
    '## Hosts: Postfix milter and Haraka plugin',
    '',
    `Machine: ${machineLine()}`,
    '',
    `Command: \`cd bench && npx tsx --conditions=@mef/source src/milter.ts ${count} ${rounds} ${sessions} ${warmUp}\` (or \`pnpm bench milter\`)`,
    '',
    `### ${count} smtp-source messages of 2 KB over ${sessions} sessions, ${rounds} rounds (medians), after ${warmUp} untimed messages per side${noDelay ? " (diagnostic: Haraka's outgoing sockets with TCP_NODELAY)" : ''}`,
    '',
    table(
      [
        'host',
        'median msg/s',
        'ratio (MEF / rspamd in the same MTA); target >= 1.0',
        'median of the per-round ratios',
        'msg/s of each round',
      ],
      rows,
    ),
    '',
    `Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${loadAverage()}.`,
    '',
    `Resident memory of MEF's processes and of Haraka after the rounds (${warmUp + rounds * count} messages each; /proc/PID/status; rspamd's scanning is in rspamd's process, not counted):`,
    '',
    table(['process', 'VmRSS MiB', 'peak (VmHWM) MiB'], mem),
    '',
    `CPU per message over the ${rounds} timed rounds (ms; utime + stime of each process tree and of the children it reaped, /proc/PID/stat; the machine's busy time from /proc/stat, with smtp-source, the sink and anything else running):`,
    '',
    table(['side', 'filter process(es)', 'MTA process(es)', 'whole machine'], cpuRows),
    '',
  ].join('\n');
  console.log(text);
  // The diagnostic only prints: the results file holds the comparison as Haraka ships.
  if (!noDelay) {
    mkdirSync(join(here, '..', 'results'), { recursive: true });
    const out = join(here, '..', 'results', 'hosts.md');
    // The notes written by hand below the figures (from `## Notes` on) stay.
    const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
    const notes = old.indexOf('\n## Notes');
    writeFileSync(out, notes >= 0 ? `${text}${old.slice(notes)}` : `${text}\n`);
  }
} finally {
  await stops.stopAll().catch(() => {});
}
process.exit(0);
