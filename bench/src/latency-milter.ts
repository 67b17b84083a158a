/**
 * How long a message takes through Postfix with no milter, with `mef milter` (its default
 * config, as `milter.ts` runs it) and with rspamd's milter (`rspamd_proxy`): smtp-source's
 * 2 KB messages with 1 session (the time of one message, end to end) and with 8 (as
 * `milter.ts`), after 300 untimed messages per side. It shows the wait that Postfix's Nagle
 * algorithm and the milter host's delayed ACK add when a milter answers nothing before end of
 * message (bench/results/hosts.md, session 11). Diagnostics only: the comparison is `milter.ts`.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/latency-milter.ts [messages]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smtpSource, startCommand, startPostfix, startRspamd, startSink, stopList } from '@mef/test-servers';

const count = Number(process.argv[2] ?? 100);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const r = spawnSync('bash', [join(root, 'scripts', 'pnpm.sh'), '--filter', '@mef/cli', 'run', 'build'], {
  env: { ...process.env, MEF_BUILD_NO_DTS: '1', MEF_BUILD_BIN_ONLY: '1' },
  encoding: 'utf8',
});
if (r.status !== 0) throw new Error(`building @mef/cli failed: ${r.stderr}`);

const stops = stopList();
try {
  const sink = stops.add(await startSink());
  const relayhost = `[127.0.0.1]:${sink.port}`;
  const home = await mkdtemp(join(tmpdir(), 'mef-bench-home-'));
  stops.defer(() => rm(home, { recursive: true, force: true }));
  const file = join(home, 'milter.yaml');
  writeFileSync(file, 'milter:\n  listen: { host: 127.0.0.1, port: 0 }\nbayes: { enabled: false }\n');
  const mef = await startCommand(
    process.execPath,
    [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'milter', '--config', file],
    /listening on inet:[^ ]+:(\d+)/,
    { env: { PATH: process.env.PATH ?? '', MEF_HOME: home }, timeoutMs: 60_000 },
  );
  stops.defer(() => mef.stop());
  const rspamd = await startRspamd({
    dbDir: join(tmpdir(), 'mef-bench-rspamd-db'),
    milter: true,
    workers: 1,
  });
  stops.defer(() => rspamd.stop());
  const sides = {
    'Postfix, no milter': stops.add(await startPostfix({ relayhost })),
    'Postfix + mef milter (default config)': stops.add(
      await startPostfix({ relayhost, milter: { port: Number(mef.ready) } }),
    ),
    "Postfix + rspamd's milter": stops.add(
      await startPostfix({ relayhost, milter: { port: rspamd.milterPort ?? 0 } }),
    ),
  };
  const send = async (port: number, sessions: number, n: number) => {
    const args = ['-s', String(sessions), '-m', String(n), '-l', '2048', '-f', 'bench@source.test'];
    const started = process.hrtime.bigint();
    const out = await smtpSource([...args, '-t', 'user@dest.test'], port);
    if (out.status !== 0) throw new Error(`smtp-source failed: ${out.output}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  console.log(`load average at the start: ${loadavg()[0]?.toFixed(1)}`);
  for (const [name, pf] of Object.entries(sides)) {
    await send(pf.port, 8, 300);
    const one = await send(pf.port, 1, count);
    const eight = await send(pf.port, 8, count);
    console.log(
      `${name}: 1 session ${(one / count).toFixed(1)} ms a message; 8 sessions ${((count * 1000) / eight).toFixed(0)} msg/s`,
    );
  }
  console.log(`load average at the end: ${loadavg()[0]?.toFixed(1)}`);
} finally {
  await stops.stopAll().catch(() => {});
}
process.exit(0);
