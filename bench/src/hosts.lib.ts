/** Servers for the hosts benchmark: rspamd with a milter proxy worker, and Haraka instances. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(200);
  }
  throw new Error(`${what} was not ready within ${ms} ms`);
}

function answers(port: number, send: string, expect: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port }, () => send && s.write(send));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('data', (d) => {
      got += d.toString();
      if (expect.test(got)) {
        s.destroy();
        resolve(true);
      }
    });
    s.on('error', () => resolve(false));
  });
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
  rmSync(dir, { recursive: true, force: true });
}

const NETWORK_MODULES = [
  'fuzzy_check',
  'rbl',
  'surbl',
  'spf',
  'dkim',
  'dmarc',
  'arc',
  'asn',
  'hfilter',
  'multimap',
  'phishing',
  'whitelist',
  'mid',
  'mime_types',
  'emails',
  'reputation',
  'url_redirector',
  'rspamd_update',
  'mx_check',
  'bimi',
  'once_received',
  'dkim_signing',
  'ratelimit',
  'replies',
  'neural',
  'history_redis',
  'dcc',
  'external_services',
  'greylist',
];

/**
 * rspamd offline with a normal worker and an rspamd_proxy worker in milter mode, `processes`
 * of each (Debian's default is 1); the proxy scans itself (`self_scan`).
 */
export async function startRspamdWithProxy(dbDir: string, processes = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'mef-bench-rspamd-'));
  const local = join(dir, 'local.d');
  for (const d of [local, join(dir, 'run'), join(dir, 'log'), dbDir]) mkdirSync(d, { recursive: true });
  const [port, milterPort, dnsPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'rspamd.conf'),
    `.include "$CONFDIR/common.conf"
options { pidfile = "$RUNDIR/rspamd.pid"; .include "$CONFDIR/options.inc" .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc" }
logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "error"; }
worker "normal" { bind_socket = "127.0.0.1:${port}"; .include "$CONFDIR/worker-normal.inc" count = ${processes}; }
worker "rspamd_proxy" { bind_socket = "127.0.0.1:${milterPort}"; milter = yes; timeout = 120s; upstream "local" { default = yes; self_scan = yes; } count = ${processes}; }
`,
  );
  writeFileSync(
    join(local, 'options.inc'),
    `dns { nameserver = ["127.0.0.1:${dnsPort}"]; timeout = 0.3s; retransmits = 1; }\ndisable_monitoring = true;\nlocal_addrs = [127.0.0.0/8, ::1];\n`,
  );
  for (const m of NETWORK_MODULES) writeFileSync(join(local, `${m}.conf`), 'enabled = false;\n');
  const user: string[] = [];
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', '_rspamd']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', '_rspamd']).toString().trim());
    for (const d of [dir, join(dir, 'run'), join(dir, 'log'), dbDir]) chownSync(d, uid, gid);
    user.push('-u', '_rspamd', '-g', '_rspamd');
  }
  const child = spawn(
    'rspamd',
    [
      '-f',
      '-c',
      join(dir, 'rspamd.conf'),
      ...user,
      `--var=LOCAL_CONFDIR=${dir}`,
      `--var=DBDIR=${dbDir}`,
      `--var=RUNDIR=${join(dir, 'run')}`,
      `--var=LOGDIR=${join(dir, 'log')}`,
    ],
    { stdio: 'ignore' },
  );
  await until('rspamd', 300_000, () => answers(port, 'GET /ping HTTP/1.0\r\n\r\n', /pong/));
  return { port, milterPort, stop: () => stop(child, dir) };
}

/** A Haraka instance with `plugins` before rcpt_to.in_host_list and queue/smtp_forward to the sink. */
export async function startHaraka(options: {
  plugins: string[];
  sinkPort: number;
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** Options for node itself (`--cpu-prof` to profile Haraka). */
  nodeArgs?: string[];
}) {
  const bin = join(dirname(require.resolve('Haraka/package.json')), 'bin', 'haraka');
  const dir = mkdtempSync(join(tmpdir(), 'mef-bench-haraka-'));
  await new Promise((r) => spawn(process.execPath, [bin, '-i', dir], { stdio: 'ignore' }).once('exit', r));
  const port = await freePort();
  const cfg = (name: string, text: string) => writeFileSync(join(dir, 'config', name), text);
  cfg('smtp.ini', `listen=127.0.0.1:${port}\npublic_ip=127.0.0.1\n`);
  cfg('log.ini', '[main]\nlevel=warn\n');
  cfg('plugins', [...options.plugins, 'rcpt_to.in_host_list', 'queue/smtp_forward', ''].join('\n'));
  cfg('host_list', 'dest.test\n');
  cfg('smtp_forward.ini', `host=127.0.0.1\nport=${options.sinkPort}\nenable_tls=false\n`);
  for (const [name, text] of Object.entries(options.files ?? {})) cfg(name, text);
  const plugin = dirname(require.resolve('haraka-plugin-mef/package.json'));
  mkdirSync(join(dir, 'node_modules'));
  if (existsSync(plugin)) symlinkSync(plugin, join(dir, 'node_modules', 'haraka-plugin-mef'));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, '-c', dir], {
    stdio: 'ignore',
    env: { ...process.env, ...options.env },
  });
  await until('Haraka', 60_000, () => answers(port, '', /^220 /));
  return { port, pid: child.pid as number, stop: () => stop(child, dir) };
}
