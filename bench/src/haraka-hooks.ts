/**
 * Where a Haraka side of `milter.ts` spends its time: one Haraka (with haraka-plugin-mef by
 * default, `loop` for `threads=0`, `rspamd` for its rspamd plugin, `none` for no filter) under
 * the same smtp-source load, with two timing plugins around the filter: how long its `data`
 * and `data_post` hooks take (from the plugin before it to the plugin after it) and how long a
 * connection lasts in Haraka (connect to disconnect) and how long `queue/smtp_forward` takes to
 * hand the message to the sink (queue to queue_ok), mean, median and 90th percentile of each
 * 500 messages; and the CPU of each thread of Haraka's processes over the timed messages.
 * Diagnostics only: the comparison is `milter.ts`.
 *
 * `MEF_BENCH_HARAKA_NODELAY=1`: Haraka's outgoing sockets with TCP_NODELAY (haraka-nodelay.lib.ts).
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/haraka-hooks.ts [mef|loop|rspamd|none] [warm-up] [messages]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { smtpSource, startHaraka, startRspamd, startSink, stopList } from '@mef/test-servers';
import { NODELAY_PLUGIN, noDelay } from './haraka-nodelay.lib.js';

const which = process.argv[2] ?? 'mef';
const warmUp = Number(process.argv[3] ?? 500);
const count = Number(process.argv[4] ?? 1000);
const pluginDir = dirname(createRequire(import.meta.url).resolve('haraka-plugin-mef/package.json'));

/** Before the filter: when the connection, DATA and data_post started. */
const T_START = `exports.hook_connect = function (next, c) { c.notes.t_conn = process.hrtime.bigint(); next(); };
exports.hook_data = function (next, c) { c.notes.t_data = process.hrtime.bigint(); next(); };
exports.hook_data_post = function (next, c) { c.notes.t_post = process.hrtime.bigint(); next(); };
exports.hook_queue = function (next, c) { c.notes.t_queue = process.hrtime.bigint(); next(); };
`;
/** After the filter: how long since, logged (as a warning) every 500 messages. */
const T_END = `const L = { data: [], data_post: [], queue: [], connection: [] };
const since = (t) => Number(process.hrtime.bigint() - t) / 1e6;
function add(self, k, ms) {
  const a = L[k];
  a.push(ms);
  if (a.length % 500 !== 0) return;
  const s = a.slice(-500).sort((x, y) => x - y);
  const mean = s.reduce((x, y) => x + y, 0) / s.length;
  self.logwarn('HOOKS ' + k + ' n=' + a.length + ' mean=' + mean.toFixed(2) + ' p50=' + s[250].toFixed(2) + ' p90=' + s[450].toFixed(2) + ' ms');
}
exports.hook_data = function (next, c) { add(this, 'data', since(c.notes.t_data)); next(); };
exports.hook_data_post = function (next, c) { add(this, 'data_post', since(c.notes.t_post)); next(); };
exports.hook_queue_ok = function (next, c) { if (c.notes.t_queue) add(this, 'queue', since(c.notes.t_queue)); next(); };
exports.hook_disconnect = function (next, c) { if (c.notes.t_conn) add(this, 'connection', since(c.notes.t_conn)); next(); };
`;

/** `pid` and the processes under it (Haraka's master and its worker). */
function tree(pid: number): number[] {
  const out = [pid];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid)
        out.push(...tree(Number(name)));
    } catch {}
  }
  return out;
}

/** CPU ticks (utime + stime) of each thread of the processes under `root`, by `pid/tid`. */
function threadTicks(root: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of tree(root)) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, Number(f[11]) + Number(f[12]));
      } catch {}
    }
  }
  return out;
}

const stops = stopList();
try {
  const sink = stops.add(await startSink());
  const home = await mkdtemp(join(tmpdir(), 'mef-bench-home-'));
  stops.defer(() => rm(home, { recursive: true, force: true }));
  const config: Record<string, string> = { 'log.ini': '[main]\nlevel=warn\n' };
  let filter = ['mef'];
  if (which === 'rspamd') {
    const rspamd = await startRspamd({ dbDir: join(tmpdir(), 'mef-bench-rspamd-db'), workers: 1 });
    stops.defer(() => rspamd.stop());
    filter = ['rspamd'];
    config['rspamd.ini'] =
      `host=127.0.0.1\nport=${rspamd.port}\n[check]\nlocal_ip=true\nprivate_ip=true\n[reject]\nspam=true\n`;
  } else if (which === 'none') {
    filter = [];
  } else {
    config['mef.yaml'] = 'bayes: { enabled: false }\n';
    if (which === 'loop') config['mef.ini'] = '[main]\nthreads=0\n';
  }
  const haraka = await startHaraka({
    plugins: [...(noDelay ? ['nodelay'] : []), 't_start', ...filter, 't_end'],
    sinkPort: sink.port,
    config,
    pluginFiles: { 't_start.js': T_START, 't_end.js': T_END, 'nodelay.js': NODELAY_PLUGIN },
    modules: { 'haraka-plugin-mef': pluginDir },
    env: { MEF_HOME: home },
  });
  stops.defer(() => haraka.stop());
  const ss = spawnSync('ss', ['-Hltnp', `sport = :${haraka.port}`], { encoding: 'utf8' }).stdout ?? '';
  const pid = Number(/pid=(\d+)/.exec(ss)?.[1]);
  const send = async (n: number) => {
    const started = process.hrtime.bigint();
    const args = [
      '-s',
      '8',
      '-m',
      String(n),
      '-l',
      '2048',
      '-f',
      'bench@source.test',
      '-t',
      'user@dest.test',
    ];
    const r = await smtpSource(args, haraka.port);
    if (r.status !== 0) throw new Error(`smtp-source failed: ${r.output}`);
    return n / (Number(process.hrtime.bigint() - started) / 1e9);
  };
  await send(warmUp);
  const before = threadTicks(pid);
  const rate = await send(count);
  const after = threadTicks(pid);
  const perMessage = (ticks: number) => ((ticks * 10) / count).toFixed(2);
  let total = 0;
  const threads: string[] = [];
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    total += d;
    if (d > 0) threads.push(`  thread ${k}: ${perMessage(d)} ms`);
  }
  console.log(
    `Haraka + ${which}${noDelay ? ' (outgoing sockets with TCP_NODELAY)' : ''}: ${rate.toFixed(1)} msg/s over ${count} messages after ${warmUp}; load ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(`CPU a message of Haraka's processes: ${perMessage(total)} ms`);
  console.log(threads.join('\n'));
  for (const line of haraka.log().split('\n'))
    if (line.includes('HOOKS')) console.log(line.slice(line.indexOf('HOOKS')));
} finally {
  await stops.stopAll().catch(() => {});
}
process.exit(0);
