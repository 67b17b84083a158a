import type { Plugin } from '@mef/core';
import { type SinkServer as Sink, startSink } from '@mef/test-servers';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { afterEach } from 'vitest';
import { type CreateRelayOptions, createRelay, type Relay, type RelayConfigInput } from '../../src/index.js';

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

let cleanups: (() => Promise<void>)[] = [];

/** Registers the per-test cleanup hook; call once at the top of a test file. */
export function useCleanup(): void {
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups = [];
  });
}

export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** A real smtp-sink, stopped after the test. */
export async function sink(flags: string[] = []): Promise<Sink> {
  const s = await startSink({ flags });
  onCleanup(() => s.stop());
  return s;
}

/** A relay on a free loopback port, closed after the test; the built-in plugins run (no Bayes model). */
export async function relay(
  relaySection: Record<string, unknown>,
  extra: Partial<RelayConfigInput> = {},
  options: CreateRelayOptions = {},
): Promise<{ relay: Relay; port: number }> {
  const r = createRelay(
    {
      bayes: { enabled: false },
      ...extra,
      relay: {
        listen: { host: '127.0.0.1', port: 0 },
        hostname: 'relay.test',
        destinationTimeout: 5_000,
        ...relaySection,
      },
    } as RelayConfigInput,
    options,
  );
  const { smtp } = await r.listen();
  onCleanup(() => r.close());
  return { relay: r, port: smtp };
}

/** Sends with nodemailer, the usual client. */
export function send(
  port: number,
  mail: {
    from?: string;
    to: string | string[];
    subject?: string;
    text: string;
    headers?: Record<string, string>;
  },
) {
  return smtpClient(port).sendMail({
    from: mail.from ?? 'sender@example.test',
    to: mail.to,
    subject: mail.subject ?? 'test',
    text: mail.text,
    ...(mail.headers ? { headers: mail.headers } : {}),
  });
}

/** A stage that waits, to keep a transaction in flight. */
export function slowStage(ms: number): Plugin {
  return {
    name: 'slow',
    async message() {
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
  };
}
