/**
 * A Haraka instance (`haraka -i`) on a free loopback port: the given plugins, then
 * `rcpt_to.in_host_list` (for `dest.test`) and `queue/smtp_forward` to a sink. `public_ip` is set
 * so it asks no outside STUN server.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { greets } from './probes.js';
import { freePort, type RunningServer, readyInDir, tempDir } from './process.js';

export interface HarakaOptions {
  /** Plugins that run first, in order (names in `config/plugins`). */
  readonly plugins: readonly string[];
  /** Where `queue/smtp_forward` delivers (127.0.0.1:PORT). */
  readonly sinkPort: number;
  /** More files in `config/` (`mef.yaml`, `rspamd.ini`, `log.ini`...), by name. */
  readonly config?: Readonly<Record<string, string>>;
  /** Plugin files in the instance's `plugins/` folder, by file name. */
  readonly pluginFiles?: Readonly<Record<string, string>>;
  /** Packages linked into the instance's `node_modules`, by name (such as haraka-plugin-mef). */
  readonly modules?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the greeting, in ms. Default 60,000. */
  readonly startTimeoutMs?: number;
}

export interface HarakaServer extends RunningServer {
  readonly dir: string;
  /** What Haraka wrote (its log), the last megabyte. */
  log(): string;
}

function harakaBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('Haraka/package.json')), 'bin', 'haraka');
}

function writeInstance(dir: string, port: number, options: HarakaOptions): void {
  const config = join(dir, 'config');
  const files: Record<string, string> = {
    'smtp.ini': `listen=127.0.0.1:${port}\npublic_ip=127.0.0.1\ndaemonize=false\n`,
    plugins: [...options.plugins, 'rcpt_to.in_host_list', 'queue/smtp_forward', ''].join('\n'),
    host_list: 'dest.test\n',
    'smtp_forward.ini': `host=127.0.0.1\nport=${options.sinkPort}\nenable_tls=false\nenable_outbound=false\n`,
    ...options.config,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(config, name), text);
  for (const [name, text] of Object.entries(options.pluginFiles ?? {}))
    writeFileSync(join(dir, 'plugins', name), text);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const [name, target] of Object.entries(options.modules ?? {}))
    symlinkSync(target, join(dir, 'node_modules', name));
}

/** Creates and starts a Haraka instance; resolves once it greets. */
export async function startHaraka(options: HarakaOptions): Promise<HarakaServer> {
  const bin = harakaBin();
  const dir = tempDir('haraka');
  const init = spawn(process.execPath, [bin, '-i', dir], { stdio: 'ignore' });
  await new Promise((resolve) => init.once('exit', resolve));
  const port = await freePort();
  writeInstance(dir, port, options);
  const child = spawn(process.execPath, [bin, '-c', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let out = '';
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const log = () => out;
  const started = await readyInDir('Haraka', child, dir, () => greets(port, 2000), {
    timeoutMs: options.startTimeoutMs ?? 60_000,
    intervalMs: 100,
    log: () => out.slice(-4000),
    graceMs: 10_000,
  });
  return { host: '127.0.0.1', port, ...started, log };
}
