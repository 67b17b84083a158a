/**
 * Real servers for the milter tests, each on a free loopback port in a folder of its own:
 * a private Postfix (smtpd with our milter, relaying to smtp-sink) and smtp-sink.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const INSTALL = 'install the servers the tests use with: sudo bash scripts/install-servers.sh';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until a TCP server on `port` sends its greeting. */
export async function waitForGreeting(port: number, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not greet on port ${port} within ${ms} ms`);
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

function binary(candidates: string[], pkg: string): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${candidates[0]} is not installed (Debian package ${pkg}); ${INSTALL}`);
  return found;
}

export interface Sink {
  readonly port: number;
  /** Messages received: smtp-sink's dump files (its envelope lines, then the message). */
  messages(): string[];
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** Starts Postfix's smtp-sink on a free loopback port, keeping every message in a folder. */
export async function startSink(): Promise<Sink> {
  const bin = binary(['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'], 'postfix');
  const dir = mkdtempSync(join(tmpdir(), 'mef-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child = spawn(bin, ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, `127.0.0.1:${port}`, '64'], {
    stdio: 'ignore',
  });
  await waitForGreeting(port, 5000, 'smtp-sink');
  return {
    port,
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), 'latin1')),
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PostfixOptions {
  /** The milter's port (`smtpd_milters = inet:127.0.0.1:PORT`). */
  readonly milterPort: number;
  /** Where Postfix relays accepted mail. */
  readonly relayPort: number;
  /** `milter_default_action`: what applies when the milter cannot be reached. */
  readonly defaultAction?: 'accept' | 'tempfail' | 'reject';
  /** `milter_command_timeout` and `milter_content_timeout`, in seconds. Default 10 and 30. */
  readonly timeouts?: { readonly command: number; readonly content: number };
  /** More `main.cf` lines (SMTP AUTH, for example). */
  readonly mainCf?: readonly string[];
  /** Files written under the configuration directory before start (`sasl/smtpd.conf`...). */
  readonly confFiles?: Readonly<Record<string, string>>;
}

export interface Postfix {
  readonly port: number;
  readonly dir: string;
  /** Queue files in the hold queue (quarantined mail). */
  held(): string[];
  /** Postfix's log. */
  log(): string;
  stop(): Promise<void>;
}

function readLog(dir: string): string {
  return existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '';
}

const SERVICES = [
  'pickup unix n - n 60 1 pickup',
  'cleanup unix n - n - 0 cleanup',
  'qmgr unix n - n 300 1 qmgr',
  'tlsmgr unix - - n 1000? 1 tlsmgr',
  'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce',
  'defer unix - - n - 0 bounce',
  'trace unix - - n - 0 bounce',
  'verify unix - - n - 1 verify',
  'flush unix n - n 1000? 0 flush',
  'proxymap unix - - n - - proxymap',
  'proxywrite unix - - n - 1 proxymap',
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

/** Starts a private Postfix: smtpd on a free loopback port with our milter, relaying to `relayPort`. */
export async function startPostfix(options: PostfixOptions): Promise<Postfix> {
  const postfix = binary(['/usr/sbin/postfix'], 'postfix');
  if (!existsSync('/usr/bin/swaks'))
    throw new Error(`swaks is not installed (Debian package swaks); ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'mef-postfix-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'etc');
  mkdirSync(conf);
  mkdirSync(join(dir, 'queue'));
  const port = await freePort();
  const main = [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    `maillog_file = ${dir}/maillog`,
    `maillog_file_prefixes = ${dir}`,
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'myhostname = mx.postfix.test',
    'mydomain = postfix.test',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    `relayhost = [127.0.0.1]:${options.relayPort}`,
    'smtp_dns_support_level = disabled',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'smtpd_peername_lookup = no',
    'biff = no',
    `smtpd_milters = inet:127.0.0.1:${options.milterPort}`,
    'milter_protocol = 6',
    `milter_default_action = ${options.defaultAction ?? 'tempfail'}`,
    'milter_connect_timeout = 2s',
    `milter_command_timeout = ${options.timeouts?.command ?? 10}s`,
    `milter_content_timeout = ${options.timeouts?.content ?? 30}s`,
    ...(options.mainCf ?? []),
  ];
  writeFileSync(join(conf, 'main.cf'), `${main.join('\n')}\n`);
  for (const [name, text] of Object.entries(options.confFiles ?? {})) {
    mkdirSync(dirname(join(conf, name)), { recursive: true });
    writeFileSync(join(conf, name), text);
  }
  writeFileSync(
    join(conf, 'master.cf'),
    `127.0.0.1:${port} inet n - n - - smtpd\n${SERVICES.map((s) => s.split(' ').join('  ')).join('\n')}\n`,
  );
  const check = spawnSync(postfix, ['-c', conf, 'check'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`postfix check failed: ${check.stderr}\n${readLog(dir)}`);
  const child = spawn(postfix, ['-c', conf, 'start-fg'], { stdio: 'ignore' });
  const log = () => readLog(dir);
  try {
    await waitForGreeting(port, 10_000, 'postfix smtpd');
  } catch (err) {
    spawnSync(postfix, ['-c', conf, 'stop']);
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${log()}`);
  }
  return {
    port,
    dir,
    held: () => {
      const hold = join(dir, 'queue', 'hold');
      return existsSync(hold) ? readdirSync(hold) : [];
    },
    log,
    stop: async () => {
      spawnSync(postfix, ['-c', conf, 'stop']);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SwaksResult {
  readonly status: number | null;
  readonly output: string;
}

/** Sends one message with swaks; returns its exit status and transcript. */
export function swaks(port: number, args: string[]): Promise<SwaksResult> {
  return run('swaks', ['--server', `127.0.0.1:${port}`, '--helo', 'client.test', '--timeout', '30', ...args]);
}

/** Sends generated messages with Postfix's smtp-source (a load generator). */
export function smtpSource(args: string[], port: number): Promise<SwaksResult> {
  return run(binary(['/usr/sbin/smtp-source', '/usr/bin/smtp-source'], 'postfix'), [
    ...args,
    `127.0.0.1:${port}`,
  ]);
}

function run(command: string, args: string[]): Promise<SwaksResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args);
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('close', (status) => resolve({ status, output }));
  });
}
