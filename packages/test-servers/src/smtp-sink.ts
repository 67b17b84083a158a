/** Postfix's smtp-sink, a ready SMTP destination that keeps every message it accepts in a folder. */
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { greets } from './probes.js';
import { freePort, type RunningServer, readyInDir, requireBinary, tempDir, which } from './process.js';

const POSTFIX_DIRS = ['/usr/lib/postfix/sbin'];

/** Where smtp-sink is, or undefined when Postfix is not installed. */
export const smtpSinkPath: string | undefined = which('smtp-sink', POSTFIX_DIRS);

export interface SinkServer extends RunningServer {
  readonly dir: string;
  /**
   * Messages received, oldest first: smtp-sink's dump files (its envelope lines, then the message),
   * without the empty file of a DATA still open.
   */
  messages(): string[];
  /** What smtp-sink wrote to stderr (with `-v`, the commands it received). */
  log(): string;
}

export interface SinkOptions {
  /** Extra smtp-sink flags (`-r .` tempfails the final dot, `-f .` rejects it, `-w 1` is slow...). */
  readonly flags?: readonly string[];
  /** smtp-sink's listen backlog. Default 64. */
  readonly backlog?: number;
}

/** Starts smtp-sink on a free loopback port; resolves once it greets. */
export async function startSink(options: SinkOptions = {}): Promise<SinkServer> {
  const bin = requireBinary('smtp-sink', 'postfix', POSTFIX_DIRS);
  const dir = tempDir('sink');
  // smtp-sink runs as `nobody` and writes its files here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const args = ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, ...(options.flags ?? [])];
  const child = spawn(bin, [...args, `127.0.0.1:${port}`, String(options.backlog ?? 64)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString('latin1')).slice(-1_000_000);
  });
  const started = await readyInDir('smtp-sink', child, dir, () => greets(port), {
    timeoutMs: 10_000,
    log: () => log,
  });
  return {
    host: '127.0.0.1',
    port,
    ...started,
    // smtp-sink opens a message's dump file at DATA and writes it at the final dot; a transaction
    // that ends without the dot (a relay that closes after DATA) has its empty file removed. An
    // empty file is therefore a message still coming or never delivered: not a message yet.
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), 'latin1'))
        .filter((m) => m.length > 0),
    log: () => log,
  };
}
