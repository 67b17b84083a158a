/**
 * Starts a private clamd on loopback for tests and benchmarks: its own config, a signature
 * database written here (no download), a free TCP port chosen at run time and a unix socket.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `clam.exe` from clamav-testfiles: clamd unpacks all 44 test files down to it. */
export const TEST_FILE_SIGNATURE = 'aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File';
/** MD5 and size of the 68-byte EICAR string. */
export const EICAR_SIGNATURE = '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature';

export const CLAMD_BINARY = ['/usr/sbin/clamd', '/usr/bin/clamd'].find((p) => existsSync(p));
export const CLAMDSCAN_BINARY = ['/usr/bin/clamdscan'].find((p) => existsSync(p));
export const TESTFILES_DIR = '/usr/share/clamav-testfiles';

export interface ClamdServer {
  readonly port: number;
  readonly socketPath: string;
  readonly configFile: string;
  readonly dir: string;
  readonly pid: number;
  /** Stops clamd by its PID and removes its folder. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('PONG')) done(true);
    });
    s.on('connect', () => s.write('zPING\0'));
  });
}

export interface StartClamdOptions {
  /** Extra config lines (such as `StreamMaxLength 1M`). */
  extraConfig?: readonly string[];
  /** How long to wait for zPING (cold start can take a few seconds). */
  startTimeoutMs?: number;
  maxThreads?: number;
}

export async function startClamd(options: StartClamdOptions = {}): Promise<ClamdServer> {
  if (!CLAMD_BINARY) throw new Error('clamd is not installed (apt-get install clamav-daemon clamdscan)');
  const dir = await mkdtemp(join(tmpdir(), 'mef-clamd-'));
  const db = join(dir, 'db');
  await mkdir(db);
  await writeFile(join(db, 'custom.hdb'), `${TEST_FILE_SIGNATURE}\n${EICAR_SIGNATURE}\n`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const socketPath = join(dir, 'clamd.sock');
    const configFile = join(dir, 'clamd.conf');
    const lines = [
      'Foreground yes',
      `DatabaseDirectory ${db}`,
      `LocalSocket ${socketPath}`,
      'LocalSocketMode 666',
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `PidFile ${join(dir, 'clamd.pid')}`,
      `LogFile ${join(dir, 'clamd.log')}`,
      'StreamMaxLength 256M',
      `MaxThreads ${options.maxThreads ?? 4}`,
      'Bytecode no',
      'SelfCheck 3600',
      // Encrypted archives come back as Heuristics.Encrypted.* (the heuristic tests use it).
      'AlertEncryptedArchive yes',
    ];
    // A directive given twice is not overridden by clamd: replace ours with the caller's.
    for (const extra of options.extraConfig ?? []) {
      const key = extra.split(/\s+/)[0];
      const i = lines.findIndex((l) => l.split(/\s+/)[0] === key);
      if (i === -1) lines.push(extra);
      else lines[i] = extra;
    }
    await writeFile(configFile, `${lines.join('\n')}\n`);
    const child = spawn(CLAMD_BINARY, [`--config-file=${configFile}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: false,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    let ok = false;
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        ok = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!ok) {
      child.kill('SIGKILL');
      const log = await readFile(join(dir, 'clamd.log'), 'utf8').catch(() => '');
      if (attempt < 4 && /bind|address already in use/i.test(stderr + log)) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`clamd did not answer zPING on port ${port}: ${stderr}\n${log}`);
    }
    const pid = child.pid ?? 0;
    child.stderr?.removeAllListeners('data');
    child.stderr?.resume();
    return {
      port,
      socketPath,
      configFile,
      dir,
      pid,
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        if (!exited) {
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          process.kill(pid, signal);
          const t = setTimeout(() => {
            if (!exited) process.kill(pid, 'SIGKILL');
          }, 5000);
          await gone;
          clearTimeout(t);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('clamd could not bind a free port');
}
