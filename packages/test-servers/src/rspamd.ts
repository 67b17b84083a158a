/**
 * A private rspamd, offline: every module that uses the network is off and its resolver points
 * at an unused loopback port, so it makes no lookup of its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers } from './probes.js';
import { freePort, outputTail, type RunningServer, readyInDir, requireBinary, tempDir } from './process.js';

export interface RspamdServer extends RunningServer {
  readonly pid: number;
  readonly dir: string;
  /** The controller worker (learning), when started with `bayesRedisPort`. */
  readonly controlPort?: number;
  /** The `rspamd_proxy` worker in milter mode, when started with `milter: true`. */
  readonly milterPort?: number;
}

export interface RspamdOptions {
  /** Where rspamd keeps its compiled regex cache; keep it across runs for a 0.5 s start. */
  readonly dbDir?: string;
  /** Normal workers. Default 2. */
  readonly workers?: number;
  /** Bayes in this Redis (127.0.0.1:PORT), learned through a controller worker, autolearn off. */
  readonly bayesRedisPort?: number;
  /** Adds an `rspamd_proxy` worker with `milter = yes` scanning through this rspamd. */
  readonly milter?: boolean;
  /** How long to wait for `/ping`, in ms. Default 180,000 (a cold start compiles the regex cache). */
  readonly startTimeoutMs?: number;
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
  // It looks up the reverse name of the first Received hop: on, every such message waits for the DNS timeout.
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

function workers(port: number, options: RspamdOptions, controlPort?: number, milterPort?: number): string {
  const out = [
    `worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  .include "$CONFDIR/worker-normal.inc"
  count = ${options.workers ?? 2};
}`,
  ];
  if (controlPort) {
    out.push(`worker "controller" {
  bind_socket = "127.0.0.1:${controlPort}";
  .include "$CONFDIR/worker-controller.inc"
  count = 1;
  secure_ip = "127.0.0.1";
}`);
  }
  if (milterPort) {
    out.push(`worker "rspamd_proxy" {
  bind_socket = "127.0.0.1:${milterPort}";
  milter = yes;
  timeout = 120s;
  upstream "local" { default = yes; self_scan = yes; }
  count = ${options.workers ?? 2};
}`);
  }
  return out.join('\n');
}

function writeConfig(dir: string, local: string, body: string, dnsPort: number, redisPort?: number) {
  writeFileSync(
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
${body}
`,
  );
  const d = join(local, 'local.d');
  writeFileSync(
    join(d, 'options.inc'),
    `dns { nameserver = ["127.0.0.1:${dnsPort}"]; timeout = 0.3s; retransmits = 1; }
disable_monitoring = true;
local_addrs = [127.0.0.0/8, ::1];
`,
  );
  for (const m of NETWORK_MODULES) writeFileSync(join(d, `${m}.conf`), 'enabled = false;\n');
  // Headers in the milter block of the reply, so clients can be tested on add/remove.
  writeFileSync(
    join(d, 'milter_headers.conf'),
    'use = ["x-spamd-bar", "x-spam-level", "x-spam-status"];\nremove_headers = true;\n',
  );
  if (redisPort) {
    writeFileSync(
      join(d, 'classifier-bayes.conf'),
      `backend = "redis";\nservers = "127.0.0.1:${redisPort}";\nautolearn = false;\nmin_learns = 200;\n`,
    );
  }
}

/** Starts rspamd in the foreground; resolves once `GET /ping` answers `pong`. */
export async function startRspamd(options: RspamdOptions = {}): Promise<RspamdServer> {
  const bin = requireBinary('rspamd', 'rspamd');
  const dir = tempDir('rspamd');
  const local = join(dir, 'local');
  const dbDir = options.dbDir ?? join(dir, 'db');
  for (const d of [join(local, 'local.d'), join(dir, 'run'), join(dir, 'log'), dbDir]) {
    mkdirSync(d, { recursive: true });
  }
  const port = await freePort();
  const dnsPort = await freePort();
  const controlPort = options.bayesRedisPort ? await freePort() : undefined;
  const milterPort = options.milter ? await freePort() : undefined;
  writeConfig(dir, local, workers(port, options, controlPort, milterPort), dnsPort, options.bayesRedisPort);
  const user: string[] = [];
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', '_rspamd']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', '_rspamd']).toString().trim());
    for (const d of [dir, join(dir, 'run'), join(dir, 'log'), dbDir]) chownSync(d, uid, gid);
    user.push('-u', '_rspamd', '-g', '_rspamd');
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
  const ready = await readyInDir(
    'rspamd',
    child,
    dir,
    () => answers(port, 'GET /ping HTTP/1.0\r\n\r\n', /pong/),
    {
      // A cold start compiles rspamd's regex cache: about 6.5 s of CPU, much longer on a busy machine.
      timeoutMs: options.startTimeoutMs ?? 180_000,
      intervalMs: 100,
      log: outputTail(child),
      graceMs: 10_000,
    },
  );
  return {
    host: '127.0.0.1',
    port,
    ...ready,
    ...(controlPort ? { controlPort } : {}),
    ...(milterPort ? { milterPort } : {}),
  };
}
