import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './smtp-sink.js';

/**
 * A private Postfix instance on a loopback port (SERVERS.md): it accepts mail for
 * `relayDomains` from anyone and for any domain from 127.0.0.0/8, and hands everything to
 * `relayhost`. No DNS: the relayhost is an address, and DNS support is off.
 */
export async function startPostfix(options: {
  relayhost: string;
  relayDomains?: string[];
}): Promise<{ port: number; stop: () => Promise<void> }> {
  if (spawnSync('test', ['-x', '/usr/sbin/postfix']).status !== 0) {
    throw new Error(
      'postfix is not installed (apt-get install postfix); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mef-relay-postfix-'));
  chmodSync(dir, 0o755);
  const queue = join(dir, 'queue');
  const data = join(dir, 'data');
  mkdirSync(queue);
  mkdirSync(data);
  // master takes its lock in data_directory as the mail owner.
  spawnSync('chown', ['postfix', data]);
  const port = await freePort();
  const main = [
    `queue_directory = ${queue}`,
    `data_directory = ${data}`,
    'command_directory = /usr/sbin',
    'daemon_directory = /usr/lib/postfix/sbin',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `maillog_file = ${join(dir, 'maillog')}`,
    'maillog_file_prefixes = /tmp',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    'myhostname = postfix.test',
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
    'compatibility_level = 3.6',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximum_backoff_time = 2s',
    'smtp_connect_timeout = 5s',
    'smtpd_banner = $myhostname ESMTP',
    'biff = no',
  ].join('\n');
  writeFileSync(join(dir, 'main.cf'), `${main}\n`);
  const svc = (name: string, type: string, priv: string, cmd: string, extra = '') =>
    `${name} ${type} ${priv} - n - ${extra || '-'} ${cmd}`;
  const master = [
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
  ].join('\n');
  writeFileSync(join(dir, 'master.cf'), `${master}\n`);
  const check = spawnSync('/usr/sbin/postfix', ['-c', dir, 'check'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`postfix check failed: ${check.stderr}`);
  const child: ChildProcess = spawn('/usr/sbin/postfix', ['-c', dir, 'start-fg'], { stdio: 'ignore' });
  // Start-up takes seconds on a loaded machine (postfix-script checks the whole tree).
  for (let i = 0; i < 1200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(25);
  }
  return {
    port,
    stop: async () => {
      spawnSync('/usr/sbin/postfix', ['-c', dir, 'stop'], { stdio: 'ignore' });
      await Promise.race([
        new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve))),
        sleep(5_000),
      ]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** swaks, the usual hand-driven SMTP client (asynchronous: the relay under test runs in this process). */
export async function swaks(args: readonly string[]): Promise<{ status: number | null; output: string }> {
  if (spawnSync('test', ['-x', '/usr/bin/swaks']).status !== 0) {
    throw new Error(
      'swaks is not installed (apt-get install swaks); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  const child = spawn('/usr/bin/swaks', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { status, output };
}
