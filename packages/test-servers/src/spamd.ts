/** A private SpamAssassin spamd on loopback: DNS off, its site config and Bayes files in its own folder. */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers } from './probes.js';
import { freePort, outputTail, type RunningServer, readyInDir, requireBinary, tempDir } from './process.js';

export interface SpamdServer extends RunningServer {
  readonly pid: number;
  readonly dir: string;
}

export interface SpamdOptions {
  /** Bayes on (`use_bayes 1`, files in the server's folder, TELL allowed for learning). Default off. */
  readonly bayes?: boolean;
  /** How long to wait for PING, in ms (it compiles its rules first: slow on a busy machine). Default 120,000. */
  readonly startTimeoutMs?: number;
}

function siteConfig(dir: string, bayes: boolean): void {
  const site = join(dir, 'site');
  mkdirSync(site);
  for (const f of readdirSync('/etc/spamassassin')) {
    if (f.endsWith('.pre')) copyFileSync(join('/etc/spamassassin', f), join(site, f));
  }
  writeFileSync(
    join(site, 'local.cf'),
    [
      'required_score 5.0',
      `use_bayes ${bayes ? 1 : 0}`,
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
}

/** Starts spamd with `--allow-tell`; resolves once it answers PING. */
export async function startSpamd(options: SpamdOptions = {}): Promise<SpamdServer> {
  const bin = requireBinary('spamd', 'spamd spamc');
  const dir = tempDir('spamd');
  const home = join(dir, 'home');
  mkdirSync(home);
  mkdirSync(join(dir, 'bayes'));
  siteConfig(dir, options.bayes ?? false);
  // spamd drops to `nobody`: let it write its Bayes files and home.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'bayes'), 0o777);
  chmodSync(home, 0o777);
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
      `--siteconfigpath=${join(dir, 'site')}`,
      '--max-children=2',
      '--min-children=1',
      '--allow-tell',
      `--syslog=${join(dir, 'spamd.log')}`,
      `--pidfile=${join(dir, 'spamd.pid')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = outputTail(child);
  // Killing the parent takes its children down.
  const ready = await readyInDir(
    'spamd',
    child,
    dir,
    () => answers(port, 'PING SPAMC/1.5\r\n\r\n', /SPAMD\/\d\.\d 0 PONG/),
    { timeoutMs: options.startTimeoutMs ?? 120_000, intervalMs: 100, log },
  );
  return { host: '127.0.0.1', port, ...ready };
}
