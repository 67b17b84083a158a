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
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRelay } from '@mef/relay';
import { machineLine, median, table } from './machine.js';

const MESSAGES = Number(process.env.MEF_BENCH_MESSAGES ?? 1000);
const RUNS = Number(process.env.MEF_BENCH_RUNS ?? 3);
const SINK = '/usr/sbin/smtp-sink';
const SOURCE = '/usr/sbin/smtp-source';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitPort(port: number, ms: number): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
  }
  throw new Error(`nothing answers on ${port}`);
}

/** A private Postfix relaying a.test to the sink (the set-up of /work/shared/SERVERS.md). */
async function startPostfix(relayhost: string): Promise<{ port: number; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'mef-bench-postfix-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'queue'));
  mkdirSync(join(dir, 'data'));
  spawnSync('chown', ['postfix', join(dir, 'data')]);
  const port = await freePort();
  const conf = {
    queue_directory: join(dir, 'queue'),
    data_directory: join(dir, 'data'),
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: '/tmp',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    mydestination: '',
    myhostname: 'postfix.bench',
    local_recipient_maps: '',
    alias_maps: '',
    relay_domains: 'a.test',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    relayhost,
    smtp_dns_support_level: 'disabled',
    smtp_tls_security_level: 'none',
    smtpd_tls_security_level: 'none',
    compatibility_level: '3.6',
  };
  writeFileSync(
    join(dir, 'main.cf'),
    `${Object.entries(conf)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  const svc = [
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n - 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  writeFileSync(join(dir, 'master.cf'), `127.0.0.1:${port} inet n - n - - smtpd\n${svc.join('\n')}\n`);
  spawnSync('/usr/sbin/postfix', ['-c', dir, 'check'], { stdio: 'ignore' });
  const child = spawn('/usr/sbin/postfix', ['-c', dir, 'start-fg'], { stdio: 'ignore' });
  await waitPort(port, 60_000);
  return {
    port,
    stop: () => {
      spawnSync('/usr/sbin/postfix', ['-c', dir, 'stop'], { stdio: 'ignore' });
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function source(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c: ChildProcess = spawn(
      SOURCE,
      [
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
        `127.0.0.1:${port}`,
      ],
      {
        stdio: 'ignore',
      },
    );
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}`))));
  });
}

async function main(): Promise<void> {
  for (const bin of [SINK, SOURCE]) {
    if (spawnSync('test', ['-x', bin]).status !== 0)
      throw new Error(`${bin} is missing: apt-get install postfix`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mef-bench-sink-'));
  chmodSync(dir, 0o777);
  const sinkPort = await freePort();
  const sink = spawn(SINK, ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, `127.0.0.1:${sinkPort}`, '256'], {
    stdio: 'ignore',
  });
  await waitPort(sinkPort, 10_000);
  const files = () => readdirSync(dir).length;
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
  const postfix = await startPostfix(`[127.0.0.1]:${sinkPort}`);
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
    postfix.stop();
    sink.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
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
