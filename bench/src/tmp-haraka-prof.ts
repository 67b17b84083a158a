import { mkdtemp } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { smtpSource, startHaraka, startSink, startRspamd } from '@mef/test-servers';

const which = process.argv[2] ?? 'mef';
const count = Number(process.argv[3] ?? 300);
const profDir = process.argv[4] ?? '/tmp/hosts-prof';
const pluginDir = dirname(createRequire(import.meta.url).resolve('haraka-plugin-mef/package.json'));
const sink = await startSink();
const home = await mkdtemp(join(tmpdir(), 'mef-prof-home-'));
let rspamd: Awaited<ReturnType<typeof startRspamd>> | undefined;
if (which === 'rspamd') rspamd = await startRspamd({ dbDir: join(tmpdir(), 'mef-bench-rspamd-db'), workers: 1 });
const hk = await startHaraka({
  plugins: [which],
  sinkPort: sink.port,
  config: {
    'log.ini': '[main]\nlevel=warn\n',
    'mef.yaml': 'bayes: { enabled: false }\n',
    ...(rspamd ? { 'rspamd.ini': `host=127.0.0.1\nport=${rspamd.port}\n[check]\nlocal_ip=true\nprivate_ip=true\n[reject]\nspam=true\n` } : {}),
  },
  modules: { 'haraka-plugin-mef': pluginDir },
  env: { MEF_HOME: home, ...(process.env.PROF ? { NODE_OPTIONS: `--require /tmp/hosts-prof/preload.cjs`, PROF_MS: process.env.PROF_MS ?? "15000" } : {}) },
});
function pidsOf(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/cmdline`, 'latin1').includes(needle)) out.push(Number(d)); } catch {}
  }
  return out;
}
function cpu(pids: number[]): number {
  let t = 0;
  for (const p of pids) { try { const f = readFileSync(`/proc/${p}/stat`, 'latin1').split(') ')[1]!.split(' '); t += Number(f[11]) + Number(f[12]); } catch {} }
  return t / 100;
}
const hkPids = pidsOf(hk.dir);
const rsPids = rspamd ? pidsOf('rspamd').filter((p) => !hkPids.includes(p)) : [];
console.log('pids', hkPids, rsPids.map((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').slice(0, 60)));
const args = ['-s', '8', '-m', String(count), '-l', '2048', '-f', 'bench@source.test', '-t', 'user@dest.test'];
for (let i = 0; i < Number(process.env.ROUNDS ?? 2); i++) {
  const t = process.hrtime.bigint();
  const c0 = cpu(hkPids), r0 = cpu(rsPids);
  const r = await smtpSource(args, hk.port);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const hc = cpu(hkPids) - c0, rc = cpu(rsPids) - r0;
  console.log(which, r.status, (count / s).toFixed(1), 'msg/s', 'haraka ms/msg', (1000 * hc / count).toFixed(2), 'rspamd ms/msg', (1000 * rc / count).toFixed(2));
}
await hk.stop();
await rspamd?.stop();
await sink.stop();
process.exit(0);
