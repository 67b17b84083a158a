/** The SMTP clients the tests drive servers with: swaks by hand, Postfix's smtp-source for load. */
import { spawn } from 'node:child_process';
import { requireBinary } from './process.js';

export interface ClientResult {
  readonly status: number | null;
  /** stdout and stderr together: swaks's transcript. */
  readonly output: string;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const add = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** Runs swaks with `args` as given (asynchronous: the server under test may run in this process). */
export function swaks(args: readonly string[], timeoutMs = 60_000): Promise<ClientResult> {
  return run(requireBinary('swaks', 'swaks'), args, timeoutMs);
}

/** Sends one message with swaks to 127.0.0.1:`port`, HELO client.test, a 30 s SMTP timeout. */
export function swaksTo(port: number, args: readonly string[]): Promise<ClientResult> {
  return swaks(['--server', `127.0.0.1:${port}`, '--helo', 'client.test', '--timeout', '30', ...args]);
}

/** Sends generated messages to 127.0.0.1:`port` with Postfix's smtp-source (a load generator). */
export function smtpSource(
  args: readonly string[],
  port: number,
  timeoutMs = 600_000,
): Promise<ClientResult> {
  const bin = requireBinary('smtp-source', 'postfix', ['/usr/lib/postfix/sbin']);
  return run(bin, [...args, `127.0.0.1:${port}`], timeoutMs);
}

/**
 * swaks arguments that attach `content` under the file name `name` as
 * application/octet-stream (swaks base64-encodes it; no file is written).
 */
export function swaksAttach(name: string, content: string): string[] {
  return ['--attach-type', 'application/octet-stream', '--attach-name', name, '--attach', content];
}

/** swaks arguments that authenticate (SMTP AUTH PLAIN) as `user` with `password`. */
export function swaksAuth(user: string, password: string): string[] {
  return ['--auth', 'PLAIN', '--auth-user', user, '--auth-password', password];
}
