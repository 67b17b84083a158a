import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './postgres.js';

/** Postfix's smtp-sink: the real destination server the relays of these tests deliver to. */
const SINK = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find(
  (p) => spawnSync('test', ['-x', p]).status === 0,
);

/** A running smtp-sink on 127.0.0.1. */
export interface Sink {
  /** `127.0.0.1:PORT`, a domain's destination. */
  readonly address: string;
  /** The messages it received (its dump files: envelope lines, then the message). */
  messages(): string[];
  stop(): Promise<void>;
}

/** Starts smtp-sink on a free loopback port; resolves once it greets. */
export async function startSink(): Promise<Sink> {
  if (!SINK) {
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mef-admin-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child: ChildProcess = spawn(
    SINK,
    ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, `127.0.0.1:${port}`, '16'],
    {
      stdio: 'ignore',
    },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 10_000;
  for (;;) {
    const greeted = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (greeted) break;
    if (Date.now() > until || child.exitCode !== null) {
      await stop();
      throw new Error(`smtp-sink did not greet on 127.0.0.1:${port} within 10 s`);
    }
    await sleep(20);
  }
  return {
    address: `127.0.0.1:${port}`,
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((f) => readFileSync(join(dir, f), 'latin1')),
    stop,
  };
}
