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
  /** Messages at the destination more than once. */
  duplicates: number;
  /**
   * Copies beyond what the sender's attempts explain: a message is at the destination at most
   * once per attempt that ended in 4xx (a destination that drops the connection after the
   * final dot but before its reply has the message, and the sender rightly sends it again),
   * plus once for the final 250 or 5xx (smtp-sink keeps what it refuses at the final dot).
   * A message told 250 at its first attempt is there exactly once. Anything more is the relay's
   * fault: must be 0.
   */
  unexplained: number;
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
    duplicates: 0,
    unexplained: 0,
    attempts: 0,
    restarts: 0,
  };
  const accepted: string[] = [];
  /** Attempts of each message that ended in 4xx. */
  const tempfails = new Map<string, number>();
  let next = 0;
  const refused = new Set<string>();
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
            refused.add(token);
            break;
          }
          tempfails.set(token, (tempfails.get(token) ?? 0) + 1);
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
  const copies = new Map<string, number>();
  for (const f of readdirSync(dir)) {
    for (const m of readFileSync(join(dir, f), 'latin1').matchAll(/^message (NOLOSS-\d+-\w+)$/gm)) {
      const token = m[1] as string;
      copies.set(token, (copies.get(token) ?? 0) + 1);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  for (const token of accepted) {
    if (copies.has(token)) counts.delivered++;
    else counts.lost++;
  }
  for (const [token, n] of copies) {
    if (n > 1) counts.duplicates++;
    // smtp-sink writes the message before it answers the final dot, so an attempt it answered
    // 4xx or 5xx (`-r .`, `-f .`) leaves a copy too: one per such attempt, plus the 250.
    const allowed = (tempfails.get(token) ?? 0) + (accepted.includes(token) || refused.has(token) ? 1 : 0);
    if (n > allowed) counts.unexplained++;
  }
  counts.restarts = restarts;
  return counts;
}
