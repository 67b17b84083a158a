/**
 * A private Postfix instance on loopback: it accepts mail for `relayDomains` from anyone and for
 * any domain from 127.0.0.0/8, and hands everything to `relayhost`, optionally through a milter.
 * No DNS: the relayhost is an address and DNS support is off.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { greets } from './probes.js';
import {
  fileTail,
  freePort,
  type RunningServer,
  requireBinary,
  stopChild,
  tempDir,
  waitReady,
} from './process.js';

export interface PostfixMilter {
  /** The milter's port (`smtpd_milters = inet:127.0.0.1:PORT`). */
  readonly port: number;
  /** `milter_default_action`: what applies when the milter cannot be reached. Default tempfail. */
  readonly defaultAction?: 'accept' | 'tempfail' | 'reject';
  /** `milter_command_timeout` and `milter_content_timeout`, in seconds. Default 10 and 30. */
  readonly timeouts?: { readonly command: number; readonly content: number };
}

export interface PostfixOptions {
  /** Where Postfix relays accepted mail, such as `[127.0.0.1]:2525`. */
  readonly relayhost: string;
  /** Domains it accepts from any client (`relay_domains`). */
  readonly relayDomains?: readonly string[];
  /** smtpd calls this milter for every message. */
  readonly milter?: PostfixMilter;
  /** `myhostname`. Default postfix.test. */
  readonly hostname?: string;
  /** How long to wait for smtpd's greeting, in ms (postfix-script checks the whole tree). Default 60,000. */
  readonly startTimeoutMs?: number;
  /** More `main.cf` lines (SMTP AUTH, for example). */
  readonly mainCf?: readonly string[];
  /** Files written under the configuration folder before start (`sasl/smtpd.conf`, ...). */
  readonly confFiles?: Readonly<Record<string, string>>;
}

export interface PostfixServer extends RunningServer {
  readonly dir: string;
  /** Queue files in the hold queue (quarantined mail). */
  held(): string[];
  /** Postfix's log. */
  log(): string;
}

function mainCf(dir: string, options: PostfixOptions): string[] {
  const main = [
    'compatibility_level = 3.6',
    `queue_directory = ${join(dir, 'queue')}`,
    `data_directory = ${join(dir, 'data')}`,
    'command_directory = /usr/sbin',
    'daemon_directory = /usr/lib/postfix/sbin',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `maillog_file = ${join(dir, 'maillog')}`,
    `maillog_file_prefixes = ${tmpdir()}`,
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    `myhostname = ${options.hostname ?? 'postfix.test'}`,
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    `relay_domains = ${(options.relayDomains ?? []).join(' ')}`,
    'smtpd_relay_restrictions = permit_mynetworks, permit_auth_destination, reject',
    `relayhost = ${options.relayhost}`,
    'smtp_dns_support_level = disabled',
    'disable_dns_lookups = yes',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximum_backoff_time = 2s',
    'smtp_connect_timeout = 5s',
    'smtpd_banner = $myhostname ESMTP',
    'biff = no',
  ];
  const m = options.milter;
  if (m) {
    main.push(
      'smtpd_peername_lookup = no',
      `smtpd_milters = inet:127.0.0.1:${m.port}`,
      'milter_protocol = 6',
      `milter_default_action = ${m.defaultAction ?? 'tempfail'}`,
      'milter_connect_timeout = 2s',
      `milter_command_timeout = ${m.timeouts?.command ?? 10}s`,
      `milter_content_timeout = ${m.timeouts?.content ?? 30}s`,
    );
  }
  return main;
}

function masterCf(port: number): string[] {
  const svc = (name: string, type: string, priv: string, cmd: string, limit = '-') =>
    `${name} ${type} ${priv} - n - ${limit} ${cmd}`;
  return [
    svc(`127.0.0.1:${port}`, 'inet', 'n', 'smtpd'),
    svc('pickup', 'unix', 'n', 'pickup', '1'),
    svc('cleanup', 'unix', 'n', 'cleanup', '0'),
    svc('qmgr', 'unix', 'n', 'qmgr', '1'),
    svc('tlsmgr', 'unix', '-', 'tlsmgr', '1'),
    svc('rewrite', 'unix', '-', 'trivial-rewrite'),
    svc('bounce', 'unix', '-', 'bounce', '0'),
    svc('defer', 'unix', '-', 'bounce', '0'),
    svc('trace', 'unix', '-', 'bounce', '0'),
    svc('verify', 'unix', '-', 'verify', '1'),
    svc('flush', 'unix', 'n', 'flush', '0'),
    svc('proxymap', 'unix', '-', 'proxymap'),
    svc('proxywrite', 'unix', '-', 'proxymap', '1'),
    svc('smtp', 'unix', '-', 'smtp'),
    svc('relay', 'unix', '-', 'smtp'),
    svc('showq', 'unix', 'n', 'showq'),
    svc('error', 'unix', '-', 'error'),
    svc('retry', 'unix', '-', 'error'),
    svc('discard', 'unix', '-', 'discard'),
    svc('local', 'unix', 'n', 'local'),
    svc('anvil', 'unix', '-', 'anvil', '1'),
    svc('scache', 'unix', '-', 'scache', '1'),
    'postlog unix-dgram n - n - 1 postlogd',
  ];
}

/** Starts `postfix start-fg` with its own config folder; resolves once smtpd greets. */
export async function startPostfix(options: PostfixOptions): Promise<PostfixServer> {
  const postfix = requireBinary('postfix', 'postfix');
  const dir = tempDir('postfix');
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'queue'));
  mkdirSync(join(dir, 'data'));
  // master takes its lock in data_directory as the mail owner.
  spawnSync('chown', ['postfix', join(dir, 'data')]);
  const port = await freePort();
  writeFileSync(join(dir, 'main.cf'), `${[...mainCf(dir, options), ...(options.mainCf ?? [])].join('\n')}\n`);
  for (const [name, text] of Object.entries(options.confFiles ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'master.cf'), `${masterCf(port).join('\n')}\n`);
  const maillog = join(dir, 'maillog');
  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  const check = spawnSync(postfix, ['-c', dir, 'check'], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postfix check failed: ${check.stderr}\n${log()}`);
  }
  const child = spawn(postfix, ['-c', dir, 'start-fg'], { stdio: 'ignore' });
  const stop = async () => {
    spawnSync(postfix, ['-c', dir, 'stop'], { stdio: 'ignore' });
    // `postfix stop` ends the master; SIGTERM to it does the same should it still run.
    await stopChild(child, 'SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady('postfix smtpd', child, () => greets(port), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      log: () => fileTail(maillog),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    dir,
    held: () => {
      const hold = join(dir, 'queue', 'hold');
      return existsSync(hold) ? readdirSync(hold) : [];
    },
    log,
    stop,
  };
}
