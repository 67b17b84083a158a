/**
 * A command of ours run as a process of its own (`mef relay`, `mef admin`), the way an operator
 * runs it: its standard output and error kept (the last 64 KiB of each), a bounded wait for the
 * line that says it is ready, and a stop that always ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { running, stopChild } from './process.js';

const KEEP = 65_536;

/** Options of {@link startCommand} and {@link runCommand}. */
export interface CommandOptions {
  readonly cwd?: string;
  /** The whole environment of the process (nothing of the test's is passed on unless given). */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to its standard input, which is then closed. */
  readonly stdin?: string;
  /** How long to wait: for the ready line ({@link startCommand}), or for the exit ({@link runCommand}). Default 90 s. */
  readonly timeoutMs?: number;
}

/** A long-running command. */
export interface CommandProcess {
  readonly child: ChildProcess;
  /** What the ready pattern's first group captured (a port, a URL). */
  readonly ready: string;
  /** What it wrote to standard output so far (the last 64 KiB). */
  stdout(): string;
  /** What it wrote to standard error so far (the last 64 KiB). */
  stderr(): string;
  /** SIGTERM (a graceful stop), then SIGKILL after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-KEEP);
  });
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-KEEP);
  });
  return { out: () => out, err: () => err };
}

/**
 * Starts `command args` and resolves once standard output or error matches `ready` (its first
 * group becomes {@link CommandProcess.ready}). Fails with the output when the process exits
 * first or takes longer than `timeoutMs`, and then stops it.
 */
export async function startCommand(
  command: string,
  args: readonly string[],
  ready: RegExp,
  options: CommandOptions = {},
): Promise<CommandProcess> {
  const child = spawn(command, [...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: options.env ?? { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.on('error', () => {});
  child.stdin?.end(options.stdin ?? '');
  const { out, err } = collect(child);
  const stop = () => stopChild(child, 'SIGTERM', 10_000);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let found: string | undefined;
  while (Date.now() < deadline && running(child)) {
    const m = ready.exec(err()) ?? ready.exec(out());
    if (m) {
      found = m[1] ?? m[0];
      break;
    }
    await sleep(25);
  }
  if (found === undefined) {
    await stop();
    throw new Error(
      `${[command, ...args].join(' ')} was not ready within ${timeoutMs} ms (exit ${child.exitCode}): ${out()}${err()}`,
    );
  }
  return { child, ready: found, stdout: out, stderr: err, stop };
}

/** How a command that ran to its end ended. */
export interface CommandResult {
  /** The exit code; null when it was killed (after `timeoutMs`). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` to its end; SIGKILL after `timeoutMs`. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: options.env ?? { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const { out, err } = collect(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out(), stderr: err() });
    });
    child.stdin?.end(options.stdin ?? '');
  });
}
