import type { Readable } from 'node:stream';
import { createEngine, type Engine } from '../engine/engine.js';
import type { EngineOptions, ScanEnvelope } from '../engine/options.js';
import type { Plugin } from '../plugin.js';
import type { Verdict } from '../verdict.js';
import type { MessageSource } from './message.js';

/** Envelope and engine options for a test run. */
export interface RunOptions extends ScanEnvelope {
  engine?: EngineOptions;
}

function feed(message: MessageSource | string): Buffer | Readable {
  if (typeof message === 'string') return Buffer.from(message, 'utf8');
  return typeof message === 'function' ? message() : message;
}

/** Runs a whole engine over one message with a default envelope. */
export function runEngine(
  engine: Engine,
  message: MessageSource | string,
  envelope: ScanEnvelope = {},
): Promise<Verdict> {
  return engine.scan(feed(message), {
    clientAddress: '192.0.2.10',
    helo: 'client.example.test',
    mailFrom: 'sender@example.test',
    recipients: ['rcpt@example.test'],
    ...envelope,
  });
}

/** Runs plugins in a fresh engine over one message, and stops the engine. */
export async function runPlugin(
  plugin: Plugin | Plugin[],
  message: MessageSource | string,
  options: RunOptions = {},
): Promise<Verdict> {
  const { engine: engineOptions, ...envelope } = options;
  const engine = createEngine(engineOptions ?? {});
  for (const p of Array.isArray(plugin) ? plugin : [plugin]) engine.use(p);
  try {
    return await runEngine(engine, message, envelope);
  } finally {
    await engine.stop();
  }
}
