/**
 * The engine most integration tests scan with: clamav in `parts` mode on the shared clamd
 * (started by `global-setup.ts`) and the banned-attachment check, started before the suite and
 * stopped after it. Call it inside a `describe`.
 */
import type { Verdict } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { afterAll, beforeAll, inject } from 'vitest';
import { bannedAttachments, clamav } from '../../src/index.js';

type ClamavPlugin = ReturnType<typeof clamav>;

export const envelope = { mailFrom: 'mallory@example.test', recipients: ['bob@example.test'] };

/** The options of a verdict's symbol (empty when it is absent). */
export const symbolOptions = (v: Verdict, name: string): readonly string[] =>
  v.symbols.find((s) => s.name === name)?.options ?? [];

/**
 * Starts the scanning engine for the enclosing suite (with the engine options given, such as
 * lower limits); the returned object's fields are set in `beforeAll`.
 */
export function useScanEngine(options: Parameters<typeof createEngine>[0] = {}): {
  engine: Engine;
  clamav: ClamavPlugin;
} {
  const ctx = {} as { engine: Engine; clamav: ClamavPlugin };
  beforeAll(async () => {
    ctx.clamav = clamav({ hosts: [`127.0.0.1:${inject('clamdPort')}`], mode: 'parts' });
    ctx.engine = createEngine(options).use(ctx.clamav).use(bannedAttachments());
    await ctx.engine.start();
  });
  afterAll(async () => {
    await ctx.engine?.stop();
  });
  return ctx;
}
