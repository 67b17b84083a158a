/**
 * Starts spamd, rspamd and Redis on 127.0.0.1 with free ports chosen at run time, with
 * their own configuration in a temporary folder, for the tests and the benchmark. Each is
 * stopped by its PID. Nothing here makes a lookup off loopback: spamd runs with DNS off and
 * rspamd's network modules are disabled, its resolver pointed at an unused loopback port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** rspamd's controller worker (learning), when started with one. */
  readonly controlPort?: number;
  stop(): Promise<void>;
}

/** Absolute path of a program, or undefined when not installed. */
export function which(program: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', '/sbin', '/bin']) {
    const p = join(dir, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends `payload`, resolves with what comes back until the peer closes or `ms` pass. */
function exchange(port: number, payload: string, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, ms);
    s.on('connect', () => s.write(payload));
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve('');
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

async function waitFor(
  name: string,
  child: ChildProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${name} exited with ${exited} before it was ready:\n${log()}`);
    if (await probe()) return;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${log()}`);
}

function stopper(child: ChildProcess, dir: string, signal: NodeJS.Signals = 'SIGTERM'): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          if (child.pid) process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await done;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

function collect(child: ChildProcess): () => string {
  let text = '';
  const add = (d: Buffer) => {
    text = (text + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

/** Starts a private spamd (TELL allowed, Bayes in the temporary folder). */
export async function startSpamd(options: { bayes?: boolean } = {}): Promise<RunningServer> {
  const bin = which('spamd');
  if (!bin) throw new Error('spamd is not installed (apt-get install spamd spamc)');
  const dir = await mkdtemp(join(tmpdir(), 'mef-spamd-'));
  const site = join(dir, 'site');
  const home = join(dir, 'home');
  await mkdir(site);
  await mkdir(home);
  await mkdir(join(dir, 'bayes'));
  for (const f of await readdir('/etc/spamassassin')) {
    if (f.endsWith('.pre')) await copyFile(join('/etc/spamassassin', f), join(site, f));
  }
  await writeFile(
    join(site, 'local.cf'),
    [
      'required_score 5.0',
      `use_bayes ${options.bayes ? 1 : 0}`,
      'bayes_auto_learn 0',
      `bayes_path ${join(dir, 'bayes', 'bayes')}`,
      'bayes_file_mode 0777',
      'skip_rbl_checks 1',
      'dns_available no',
      'use_razor2 0',
      'use_pyzor 0',
      'use_dcc 0',
      'use_auto_whitelist 0',
      '',
    ].join('\n'),
  );
  // spamd drops to `nobody`: let it write its Bayes files and home.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'bayes'), 0o777);
  await chmod(home, 0o777);
  const port = await freePort();
  const child = spawn(
    bin,
    [
      `--listen=127.0.0.1:${port}`,
      '--allowed-ips=127.0.0.1',
      '--local',
      '--nouser-config',
      '--username=nobody',
      `--helper-home-dir=${home}`,
      `--siteconfigpath=${site}`,
      '--max-children=2',
      '--min-children=1',
      '--allow-tell',
      `--syslog=${join(dir, 'spamd.log')}`,
      `--pidfile=${join(dir, 'spamd.pid')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = collect(child);
  await waitFor(
    'spamd',
    child,
    async () => /SPAMD\/\d\.\d 0 PONG/.test(await exchange(port, 'PING SPAMC/1.5\r\n\r\n')),
    30_000,
    log,
  );
  return { name: 'spamd', port, pid: child.pid as number, dir, stop: stopper(child, dir) };
}

const RSPAMD_NETWORK_MODULES = [
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
  'greylist',
  'ratelimit',
  'replies',
  'neural',
  'history_redis',
  'dcc',
  'external_services',
];

/** Starts a private rspamd, offline: every network module off, DNS to an unused loopback port. */
export async function startRspamd(
  options: {
    dbDir?: string;
    workers?: number;
    /** Bayes in this Redis (127.0.0.1:PORT), learned through a controller worker, autolearn off. */
    bayesRedisPort?: number;
  } = {},
): Promise<RunningServer> {
  const bin = which('rspamd');
  if (!bin) throw new Error('rspamd is not installed (apt-get install rspamd)');
  const dir = await mkdtemp(join(tmpdir(), 'mef-rspamd-'));
  const local = join(dir, 'local');
  const dbDir = options.dbDir ?? join(dir, 'db');
  for (const d of [local, join(local, 'local.d'), join(dir, 'run'), join(dir, 'log'), dbDir]) {
    await mkdir(d, { recursive: true });
  }
  const port = await freePort();
  const dnsPort = await freePort();
  const controlPort = options.bayesRedisPort ? await freePort() : undefined;
  const controller = controlPort
    ? `worker "controller" {
  bind_socket = "127.0.0.1:${controlPort}";
  .include "$CONFDIR/worker-controller.inc"
  count = 1;
  secure_ip = "127.0.0.1";
}
`
    : '';
  if (options.bayesRedisPort) {
    await writeFile(
      join(local, 'local.d', 'classifier-bayes.conf'),
      `backend = "redis";\nservers = "127.0.0.1:${options.bayesRedisPort}";\nautolearn = false;\nmin_learns = 200;\n`,
    );
  }
  await writeFile(
    join(dir, 'rspamd.conf'),
    `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
  type = "file";
  filename = "$LOGDIR/rspamd.log";
  level = "error";
}
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  .include "$CONFDIR/worker-normal.inc"
  count = ${options.workers ?? 2};
}
${controller}`,
  );
  await writeFile(
    join(local, 'local.d', 'options.inc'),
    `dns { nameserver = ["127.0.0.1:${dnsPort}"]; timeout = 0.3s; retransmits = 1; }
disable_monitoring = true;
local_addrs = [127.0.0.0/8, ::1];
`,
  );
  for (const m of RSPAMD_NETWORK_MODULES)
    await writeFile(join(local, 'local.d', `${m}.conf`), 'enabled = false;\n');
  // Headers in the milter block of the reply, so clients can be tested on add/remove.
  await writeFile(
    join(local, 'local.d', 'milter_headers.conf'),
    'use = ["x-spamd-bar", "x-spam-level", "x-spam-status"];\nremove_headers = true;\n',
  );
  let user: string[] = [];
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', '_rspamd']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', '_rspamd']).toString().trim());
    for (const d of [dir, join(dir, 'run'), join(dir, 'log'), dbDir]) await chown(d, uid, gid);
    user = ['-u', '_rspamd', '-g', '_rspamd'];
  }
  const child = spawn(
    bin,
    [
      '-f',
      '-c',
      join(dir, 'rspamd.conf'),
      ...user,
      `--var=LOCAL_CONFDIR=${local}`,
      `--var=DBDIR=${dbDir}`,
      `--var=RUNDIR=${join(dir, 'run')}`,
      `--var=LOGDIR=${join(dir, 'log')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = collect(child);
  await waitFor(
    'rspamd',
    child,
    async () => /pong/.test(await exchange(port, 'GET /ping HTTP/1.0\r\n\r\n')),
    // A cold start compiles rspamd's regex cache: about 6.5 s of CPU, much longer on a busy machine.
    180_000,
    log,
  );
  return {
    name: 'rspamd',
    port,
    pid: child.pid as number,
    dir,
    ...(controlPort ? { controlPort } : {}),
    stop: stopper(child, dir),
  };
}

/** Starts a private Redis with no persistence. */
export async function startRedis(): Promise<RunningServer> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = await mkdtemp(join(tmpdir(), 'mef-redis-'));
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = collect(child);
  await waitFor('redis', child, async () => /PONG/.test(await exchange(port, 'PING\r\n', 300)), 15_000, log);
  return { name: 'redis', port, pid: child.pid as number, dir, stop: stopper(child, dir) };
}
