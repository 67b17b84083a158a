/** Real servers for the Haraka tests: a Haraka instance with the deployed plugin, and smtp-sink. */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const INSTALL = 'install the servers the tests use with: sudo bash scripts/install-servers.sh';
const HARAKA_BIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  'Haraka',
  'bin',
  'haraka',
);

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

async function waitForGreeting(port: number, ms: number, what: string, log: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.setTimeout(2000, () => {
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
    await sleep(100);
  }
  throw new Error(`${what} did not greet on port ${port} within ${ms} ms\n${log()}`);
}

export async function eventually<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

export interface Sink {
  readonly port: number;
  messages(): string[];
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const bin = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find((p) => existsSync(p));
  if (!bin) throw new Error(`smtp-sink is not installed (Debian package postfix); ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'mef-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child = spawn(bin, ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, `127.0.0.1:${port}`, '64'], {
    stdio: 'ignore',
  });
  await waitForGreeting(port, 5000, 'smtp-sink', () => '');
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

export interface Haraka {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts a Haraka instance (`haraka -i`) on a free loopback port, with the deployed plugin in
 * its node_modules, `mef.yaml` in its config, and `queue/smtp_forward` to the sink.
 */
export async function startHaraka(options: {
  deployed: string;
  mefYaml: string;
  sinkPort: number;
}): Promise<Haraka> {
  if (!existsSync(HARAKA_BIN))
    throw new Error('Haraka is not installed: run pnpm install (devDependency Haraka)');
  if (!existsSync('/usr/bin/swaks'))
    throw new Error(`swaks is not installed (Debian package swaks); ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'mef-haraka-'));
  const init = spawn(process.execPath, [HARAKA_BIN, '-i', dir], { stdio: 'ignore' });
  await new Promise((resolve) => init.once('exit', resolve));
  const port = await freePort();
  const config = join(dir, 'config');
  writeFileSync(join(config, 'smtp.ini'), `listen=127.0.0.1:${port}\npublic_ip=127.0.0.1\ndaemonize=false\n`);
  // mef_reader: another plugin that reads MEF's results from transaction.results.
  writeFileSync(join(config, 'plugins'), 'mef\nmef_reader\nrcpt_to.in_host_list\nqueue/smtp_forward\n');
  writeFileSync(
    join(dir, 'plugins', 'mef_reader.js'),
    `exports.hook_data_post = function (next, connection) {
  const r = connection.transaction.results.get('mef');
  if (r) connection.transaction.add_header('X-Mef-Reader', r.disposition + ' ' + r.score + ' ' + r.symbols.length);
  next();
};
`,
  );
  writeFileSync(join(config, 'host_list'), 'dest.test\n');
  writeFileSync(join(config, 'me'), 'haraka.test\n');
  writeFileSync(
    join(config, 'smtp_forward.ini'),
    `host=127.0.0.1\nport=${options.sinkPort}\nenable_tls=false\nenable_outbound=false\n`,
  );
  writeFileSync(join(config, 'mef.yaml'), options.mefYaml);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(options.deployed, join(dir, 'node_modules', 'haraka-plugin-mef'));
  const home = mkdtempSync(join(tmpdir(), 'mef-home-'));
  const child = spawn(process.execPath, [HARAKA_BIN, '-c', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MEF_HOME: home },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const log = () => out;
  try {
    await waitForGreeting(port, 30_000, 'Haraka', log);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    port,
    log,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface SwaksResult {
  readonly status: number | null;
  readonly output: string;
}

export function swaks(port: number, args: string[]): Promise<SwaksResult> {
  return new Promise((resolve) => {
    const child = spawn('swaks', [
      '--server',
      `127.0.0.1:${port}`,
      '--helo',
      'client.test',
      '--timeout',
      '30',
      ...args,
    ]);
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
