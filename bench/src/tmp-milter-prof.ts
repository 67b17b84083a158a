import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEngine, resolveConfig } from '@mef/cli';
import { createMilterServer } from '@mef/milter';
import { smtpSource, startPostfix, startRspamd, startSink } from '@mef/test-servers';

const which = process.argv[2] ?? 'each-command';
const count = Number(process.argv[3] ?? 300);
const sink = await startSink();
const relayhost = `[127.0.0.1]:${sink.port}`;
let port: number;
let rspamd: Awaited<ReturnType<typeof startRspamd>> | undefined;
let milter: ReturnType<typeof createMilterServer> | undefined;
const { engine } = buildEngine(resolveConfig({ bayes: { enabled: false } }, {}));
if (which === 'rspamd') {
  rspamd = await startRspamd({ dbDir: join(tmpdir(), 'mef-bench-rspamd-db'), milter: true, workers: 1 });
  port = rspamd.milterPort ?? 0;
} else {
  milter = createMilterServer({ engine, replyAt: which as 'each-command' });
  port = (await milter.listen({ host: '127.0.0.1', port: 0 })) as number;
}
const pf = await startPostfix({ relayhost, milter: { port } });
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
const rsPids = rspamd ? pidsOf(`127.0.0.1:${port}`) : [process.pid];
console.log('pids', rsPids);
const session = new Session();
if (process.env.PROF) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); }
const args = ['-s', '8', '-m', String(count), '-l', '2048', '-f', 'bench@source.test', '-t', 'user@dest.test'];
for (let i = 0; i < Number(process.env.ROUNDS ?? 3); i++) {
  if (i === 1 && process.env.PROF) await session.post('Profiler.start');
  const t = process.hrtime.bigint();
  const c0 = cpu(rsPids);
  const r = await smtpSource(args, pf.port);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(which, r.status, (count / s).toFixed(1), 'msg/s', 'filter ms/msg', ((1000 * (cpu(rsPids) - c0)) / count).toFixed(2));
}
if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/hosts-prof/milter.cpuprofile', JSON.stringify(profile)); }
await pf.stop(); await milter?.close(); await rspamd?.stop(); await engine.stop(); await sink.stop();
process.exit(0);
