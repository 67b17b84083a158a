/**
 * What every starter shares: finding a binary (or failing with install advice), free loopback
 * ports, a bounded wait for readiness, the tail of a child's output, and a stop that always ends.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a running server gives back, whatever it is. */
export interface RunningServer {
  /** Always 127.0.0.1: every server listens on loopback only. */
  readonly host: string;
  readonly port: number;
  /** Stops the server (by its PID, SIGKILL after a grace period) and removes its folder. */
  stop(): Promise<void>;
}

export const INSTALL_ADVICE = 'install the servers the tests use with: sudo bash scripts/install-servers.sh';

/** A server the tests need is not installed: the tests fail with this, they never skip. */
export class MissingServerError extends Error {
  constructor(program: string, debianPackages: string) {
    super(`${program} is not installed (Debian package ${debianPackages}); ${INSTALL_ADVICE}`);
    this.name = 'MissingServerError';
  }
}

const DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin', '/bin'];

/** Absolute path of an executable program, or undefined when it is not installed. */
export function which(program: string, extraDirs: readonly string[] = []): string | undefined {
  for (const dir of [...DIRS, ...extraDirs]) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute path of `program`; throws {@link MissingServerError} naming the Debian packages. */
export function requireBinary(program: string, debianPackages: string, extraDirs: readonly string[] = []) {
  const path = which(program, extraDirs);
  if (!path) throw new MissingServerError(program, debianPackages);
  return path;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A UDP port that was free on 127.0.0.1 a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A port free for both TCP and UDP on 127.0.0.1 (a DNS server listens on both). */
export async function freeTcpUdpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    if (await udpFree(port)) return port;
  }
  throw new Error('no loopback port was free for both TCP and UDP after 20 tries');
}

/** A fresh folder under the system temp folder, named `mef-PREFIX-XXXXXX`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mef-${prefix}-`));
}

/** Keeps the last 4,000 characters a child wrote, for the error when it fails to start. */
export function outputTail(child: ChildProcess): () => string {
  let text = '';
  const add = (d: Buffer) => {
    text = (text + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

/** The last 4,000 characters of a log file, or '' when there is none yet. */
export function fileTail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').slice(-4000) : '';
}

/** True until the child has exited or was killed. */
export function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Polls `probe` every `intervalMs` until it answers true, for at most `timeoutMs`. Fails early,
 * with the server's output, when the child exits; kills it when the time is up.
 */
export async function waitReady(
  name: string,
  child: ChildProcess,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; log?: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const log = () => options.log?.() ?? '';
  while (Date.now() < deadline) {
    if (!running(child))
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready\n${log()}`);
    if (await probe()) return;
    await sleep(options.intervalMs ?? 50);
  }
  const text = log();
  await stopChild(child);
  throw new Error(`${name} was not ready within ${options.timeoutMs} ms\n${text}`);
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
  if (running(child)) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
  // A grandchild may still hold the pipes open: close our ends so they keep no test run alive.
  child.stdout?.destroy();
  child.stderr?.destroy();
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

/** A started server's process and folder: `stop()` ends it (SIGTERM, SIGKILL after `graceMs`) and removes `dir`. */
function owned(child: ChildProcess, dir: string, graceMs: number) {
  return {
    pid: child.pid ?? 0,
    dir,
    stop: async () => {
      await stopChild(child, 'SIGTERM', graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits as {@link waitReady} for a server whose files live in `dir`; when it never gets ready,
 * `dir` is removed too. Resolves with its pid, `dir`, and a `stop()` that ends the process
 * (SIGTERM, SIGKILL after `graceMs`) and removes `dir`.
 */
export async function readyInDir(
  name: string,
  child: ChildProcess,
  dir: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; log?: () => string; graceMs?: number },
): Promise<{ pid: number; dir: string; stop(): Promise<void> }> {
  try {
    await waitReady(name, child, probe, options);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return owned(child, dir, options.graceMs ?? 5000);
}

/**
 * Starts a server that is told its port on the command line (named, rbldnsd), whose files live
 * in `dir`. Another process may take the port between `pickPort` and the server's bind, so a
 * try that is not ready within `timeoutMs` is killed and the next free port tried, `attempts`
 * times at most (default 5). When every try failed, `dir` is removed and the last error is
 * thrown. Resolves as {@link readyInDir}, with the port.
 */
export async function readyOnFreePort(
  name: string,
  dir: string,
  pickPort: () => Promise<number>,
  spawnAt: (port: number) => ChildProcess,
  probe: (port: number) => Promise<boolean>,
  options: { timeoutMs: number; graceMs?: number; attempts?: number },
): Promise<{ port: number; pid: number; dir: string; stop(): Promise<void> }> {
  let lastError = '';
  for (let attempt = 0; attempt < (options.attempts ?? 5); attempt++) {
    const port = await pickPort();
    const child = spawnAt(port);
    try {
      await waitReady(name, child, () => probe(port), {
        timeoutMs: options.timeoutMs,
        log: outputTail(child),
      });
    } catch (err) {
      lastError = (err as Error).message;
      await stopChild(child, 'SIGKILL');
      continue;
    }
    return { port, ...owned(child, dir, options.graceMs ?? 5000) };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`${name} did not start: ${lastError}`);
}
