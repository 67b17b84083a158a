import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fresh MEF_HOME, so that no model of the machine's user is picked up. */
export function freshHome(): string {
  return mkdtempSync(join(tmpdir(), 'mef-cli-home-'));
}

const defaultHome = freshHome();

/** Spawns the built binary as a user would: `node dist/bin.js ...args`. */
export function mef(
  args: readonly string[],
  options: { stdin?: string | Buffer; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [inject('bin'), ...args], {
      cwd: options.cwd ?? join(dirname(fileURLToPath(import.meta.url)), '..'),
      env: { PATH: process.env.PATH ?? '', MEF_HOME: defaultHome, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}

/** The JSON lines of a `--json` run. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mef-cli-test-'));
}

/** Writes a config file (an object as JSON, or a string as it is) into `dir`; returns its path. */
export function writeConfig(dir: string, config: unknown, name = 'mef.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

/** The EICAR string, assembled at run time (no file of the repository holds it). */
export function eicar(): string {
  return ['X5O!P%@AP[4', '\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-TEST-FILE!', '$H+H*'].join('');
}

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** A small message with a body. */
export function message(subject: string, body: string, extra = ''): string {
  return `From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n${extra}\r\n${body}\r\n`;
}

export interface SymbolOut {
  readonly name: string;
  readonly score: number;
  readonly options?: readonly string[];
}

/** The symbols of one `--json` result. */
export function symbolsOf(o: Record<string, unknown> | undefined): SymbolOut[] {
  return (o?.symbols ?? []) as SymbolOut[];
}

/** The symbol names of one `--json` result. */
export function namesOf(o: Record<string, unknown> | undefined): string[] {
  return symbolsOf(o).map((s) => s.name);
}
