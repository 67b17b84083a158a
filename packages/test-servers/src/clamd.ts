/**
 * A private clamd on loopback: its own config, a signature database written here (no download),
 * a free TCP port and a unix socket in its own folder.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers } from './probes.js';
import {
  fileTail,
  freePort,
  outputTail,
  type RunningServer,
  requireBinary,
  stopChild,
  tempDir,
  waitReady,
  which,
} from './process.js';

/** `clam.exe` from clamav-testfiles: clamd unpacks all 44 test files down to it. */
export const TEST_FILE_SIGNATURE = 'aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File';
/** MD5 and size of the 68-byte EICAR string. */
export const EICAR_SIGNATURE = '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature';
/** The 68-byte EICAR test string, assembled so that no scanner flags this file. */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
/** Where Debian's clamav-testfiles puts its 44 files. */
export const TESTFILES_DIR = '/usr/share/clamav-testfiles';

/** clamdscan, the reference client, or undefined when it is not installed. */
export function clamdscanPath(): string | undefined {
  return which('clamdscan');
}

export interface ClamdServer extends RunningServer {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly socketPath: string;
  readonly configFile: string;
  readonly dir: string;
  readonly pid: number;
  /** Stops clamd by its PID (SIGKILL after 5 s) and removes its folder. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClamdOptions {
  /** Extra config lines (such as `StreamMaxLength 1M`); one with the key of a default replaces it. */
  readonly extraConfig?: readonly string[];
  /** How long to wait for zPING, in ms (a cold start on a busy machine takes seconds). Default 30,000. */
  readonly startTimeoutMs?: number;
  /** clamd's MaxThreads. Default 4. */
  readonly maxThreads?: number;
}

function config(dir: string, port: number, options: ClamdOptions): string[] {
  const lines = [
    'Foreground yes',
    `DatabaseDirectory ${join(dir, 'db')}`,
    `LocalSocket ${join(dir, 'clamd.sock')}`,
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
  return lines;
}

/** Starts clamd with the EICAR and clamav-testfiles signatures; resolves once it answers zPING. */
export async function startClamd(options: ClamdOptions = {}): Promise<ClamdServer> {
  const bin = requireBinary('clamd', 'clamav-daemon clamdscan clamav-testfiles');
  const dir = tempDir('clamd');
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'custom.hdb'), `${TEST_FILE_SIGNATURE}\n${EICAR_SIGNATURE}\n`);
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const configFile = join(dir, 'clamd.conf');
    writeFileSync(configFile, `${config(dir, port, options).join('\n')}\n`);
    const child = spawn(bin, [`--config-file=${configFile}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail = outputTail(child);
    try {
      await waitReady('clamd', child, () => answers(port, 'zPING\0', /PONG/), {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        log: () => `${tail()}\n${fileTail(join(dir, 'clamd.log'))}`,
      });
    } catch (err) {
      await stopChild(child, 'SIGKILL');
      lastError = (err as Error).message;
      // Another process took the port between the check and the bind: try another.
      if (/bind|address already in use/i.test(lastError)) continue;
      break;
    }
    const pid = child.pid ?? 0;
    return {
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
      socketPath: join(dir, 'clamd.sock'),
      configFile,
      dir,
      pid,
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        await stopChild(child, signal);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`clamd did not start: ${lastError}`);
}
