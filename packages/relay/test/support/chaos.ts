import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, smtpSinkPath } from '@mef/test-servers';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { createRelay } from '../../src/index.js';

/** How the destination behaves for a while: smtp-sink flags, or `down` (not running). */
const MODES: readonly (readonly string[] | 'down')[] = [
  [],
  [],
  [],
  ['-r', '.'], // 4xx at the final dot
  ['-f', '.'], // 5xx at the final dot
  ['-q', '.'], // drops after the final dot, before its reply
  ['-q', 'DATA'], // drops before the message
  ['-r', 'RCPT'],
  ['-w', '1'], // slow: waits a second before answering DATA
  'down',
];

export interface NoLossCounts {
  messages: number;
  /** The relay answered 250. */
  accepted: number;
  /** Delivered: a 250 whose message is at the destination. */
  delivered: number;
  /** The relay answered 5xx (the sender knows it failed). */
  refused: number;
  /** Still 4xx after every retry (the sender would keep trying). */
  deferred: number;
  /** 250 from the relay, not at the destination: must be 0. */
  lost: number;
  attempts: number;
  restarts: number;
}

/**
 * Sends `messages` messages through a relay to a destination (smtp-sink, restarted on the same
 * port every few hundred milliseconds in a random mode: healthy, 4xx or 5xx at the final dot,
 * dropping before or after the final dot, slow, or down). Senders retry 4xx like an MTA.
 * Then every message the relay answered 250 for is looked for at the destination.
 */
export async function noLossRun(options: {
  messages: number;
  senders?: number;
  retries?: number;
  seed?: number;
}): Promise<NoLossCounts> {
  if (!smtpSinkPath)
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); run sudo bash scripts/install-servers.sh',
    );
  const sinkPath = smtpSinkPath;
  let seed = options.seed ?? 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const dir = mkdtempSync(join(tmpdir(), 'mef-noloss-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let running = true;
  let restarts = 0;
  const stopChild = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGKILL');
    await new Promise((resolve) => c.once('exit', resolve));
  };
  const chaos = (async () => {
    while (running) {
      await stopChild();
      const mode = MODES[Math.floor(random() * MODES.length)] ?? [];
      if (mode !== 'down') {
        child = spawn(
          sinkPath,
          ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, ...mode, `127.0.0.1:${port}`, '64'],
          { stdio: 'ignore' },
        );
        restarts++;
      }
      await sleep(150 + random() * 350);
    }
    await stopChild();
  })();

  const relay = createRelay({
    bayes: { enabled: false },
    relay: {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: 'relay.test',
      destinationTimeout: 3_000,
      domains: { 'a.test': { destination: `127.0.0.1:${port}` } },
    },
  });
  const { smtp } = await relay.listen();
  const counts: NoLossCounts = {
    messages: options.messages,
    accepted: 0,
    delivered: 0,
    refused: 0,
    deferred: 0,
    lost: 0,
    attempts: 0,
    restarts: 0,
  };
  const accepted: string[] = [];
  let next = 0;
  const sender = async () => {
    const transport = smtpClient(smtp, { connectionTimeout: 10_000 });
    for (;;) {
      const i = next++;
      if (i >= options.messages) return;
      const token = `NOLOSS-${i}-${Math.random().toString(36).slice(2)}`;
      for (let attempt = 0; ; attempt++) {
        counts.attempts++;
        try {
          await transport.sendMail({
            from: 'sender@example.test',
            to: 'x@a.test',
            subject: token,
            text: `message ${token}\n`,
          });
          counts.accepted++;
          accepted.push(token);
          break;
        } catch (err) {
          const code = (err as { responseCode?: number }).responseCode ?? 0;
          if (code >= 500) {
            counts.refused++;
            break;
          }
          if (attempt >= (options.retries ?? 20)) {
            counts.deferred++;
            break;
          }
          await sleep(50 + random() * 100);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.senders ?? 5 }, sender));
  } finally {
    running = false;
    await chaos;
    await relay.close();
  }
  const received = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'latin1'))
    .join('\n');
  rmSync(dir, { recursive: true, force: true });
  for (const token of accepted) {
    if (received.includes(`message ${token}`)) counts.delivered++;
    else counts.lost++;
  }
  counts.restarts = restarts;
  return counts;
}
