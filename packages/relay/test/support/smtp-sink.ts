import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Postfix's smtp-sink, the real destination server of these tests. */
export const smtpSinkPath = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find(
  (p) => spawnSync('test', ['-x', p]).status === 0,
);

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitForGreeting(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`smtp-sink did not greet on ${port} within ${ms} ms`);
}

export interface Sink {
  port: number;
  dir: string;
  /** Messages received (smtp-sink's dump files: its envelope lines, then the message). */
  messages(): string[];
  /** What smtp-sink wrote to stderr (with `-v`, the commands it received). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts smtp-sink on a free loopback port with extra flags (`-r .` tempfails the final dot...). */
export async function startSink(flags: string[] = []): Promise<Sink> {
  if (!smtpSinkPath) throw new Error('smtp-sink (Debian package postfix) is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'mef-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child: ChildProcess = spawn(
    smtpSinkPath,
    ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, ...flags, `127.0.0.1:${port}`, '64'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString('latin1');
  });
  await waitForGreeting(port, 5000);
  return {
    port,
    dir,
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), 'latin1')),
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
