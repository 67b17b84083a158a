import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RelayConfigInput } from '@mef/relay';
import { smtpClient } from '@mef/test-servers/smtp-client';

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** A relay process (test/support/relay-process.ts) on 127.0.0.1. */
export interface RelayProcess {
  readonly port: number;
  /** What it wrote to standard error so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** The relay configuration of these tests: the built-in rules (GTUBE), no Bayes model. */
export function relayConfig(
  hostname: string,
  domains: Record<string, { destination: string }>,
): RelayConfigInput {
  return {
    bayes: { enabled: false },
    relay: { listen: { host: '127.0.0.1', port: 0 }, hostname, domains },
  };
}

/**
 * Starts a relay in a process of its own on the TypeScript sources (tsx), with its settings and
 * verdict log in the admin store at `database`. Resolves with its SMTP port once it listens.
 */
export async function startRelayProcess(database: string, config: RelayConfigInput): Promise<RelayProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@mef/source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'relay-process.ts'),
      JSON.stringify({ database, config }),
    ],
    { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const port = await waitFor(
    () => /listening (\d+)/.exec(out)?.[1],
    (p) => p !== undefined || child.exitCode !== null,
    60_000,
  );
  if (!port) {
    await stop();
    throw new Error(`the relay process did not start within 60 s: ${err}`);
  }
  return { port: Number(port), stderr: () => err, stop };
}

/** The SMTP client's answer to one message. */
export interface Sent {
  /** The final reply code: 250 when accepted. */
  code: number;
  /** The reply text (or the error). */
  response: string;
}

/** Sends GTUBE (or `body`) through the relay at `port` with nodemailer; resolves with the reply. */
export async function sendMail(port: number, to: string, messageId: string, body = GTUBE): Promise<Sent> {
  const transport = smtpClient(port, {
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const info = await transport.sendMail({
      from: 'sender@spammer.example',
      to,
      subject: 'GTUBE through the relay',
      messageId,
      text: `${body}\n`,
    });
    return { code: Number(/^\d{3}/.exec(info.response)?.[0] ?? 0), response: info.response };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string; message: string };
    return { code: e.responseCode ?? 0, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** Polls `read` every 50 ms until `done` holds or `ms` pass; resolves with the last value read. */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms: number,
): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
