import { describe, expect, it } from 'vitest';
import type { Plugin } from '../src/index.js';
import {
  buildMessage,
  type StreamSuiteOptions,
  streamChecks,
  streamSuite,
  type TestApi,
} from '../src/testing/index.js';

// The stream suite checks other code, so it must fail on broken code: each broken stage
// below must make every check of the suite fail (the aborted-source check excepted, which
// asserts the engine's answer to a broken source, not the stage's finding).

const message = buildMessage({
  text: 'see attachment',
  attachments: [{ filename: 'setup.exe', content: Buffer.alloc(5_000, 1) }],
});
const options: StreamSuiteOptions = {
  message,
  expect: { disposition: 'reject', symbols: ['BANNED_EXE'] },
  largeBytes: 4 * 1024 * 1024,
};

const good = (): Plugin => ({
  name: 'good',
  message(ctx) {
    ctx.message.parts({ attachment: true }, async (part) => {
      for await (const _ of part.content);
      if (part.filename?.endsWith('.exe')) ctx.findings.symbol('BANNED_EXE', 20);
    });
  },
});
const doesNothing = (): Plugin => ({ name: 'does-nothing', message() {} });
const alwaysUnavailable = (): Plugin => ({
  name: 'always-unavailable',
  onError: 'accept',
  message(ctx) {
    ctx.findings.symbol('BANNED_EXE', 20);
    ctx.findings.error('unavailable', 'TEST_UNAVAILABLE', 'scanner down');
  },
});
const throws = (): Plugin => ({
  name: 'throws',
  message(ctx) {
    ctx.findings.symbol('BANNED_EXE', 20);
    throw new Error('bug in the stage');
  },
});

/** Registers the suite with a collecting test API and runs each check it registered. */
async function runSuite(make: () => Plugin): Promise<Map<string, unknown>> {
  const checks: { name: string; fn: () => Promise<void> }[] = [];
  const api: TestApi = {
    describe: (_n, fn) => fn(),
    it: (name, fn) => {
      checks.push({ name, fn });
    },
  };
  streamSuite(api, 'self-test', make, options);
  const out = new Map<string, unknown>();
  for (const c of checks)
    out.set(
      c.name,
      await c.fn().then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
  return out;
}

describe('stream suite self-test', () => {
  it('passes a working stage in every check', async () => {
    const results = await runSuite(good);
    expect(results.size).toBe(4);
    for (const [name, err] of results) expect(err, name).toBeUndefined();
  });

  for (const [label, make] of [
    ['a do-nothing stage', doesNothing],
    ['a stage that always records error(unavailable)', alwaysUnavailable],
    ['a stage that throws', throws],
  ] as const) {
    it(`fails ${label} in the 1-byte, slow-consumer and large checks`, async () => {
      const results = await runSuite(make);
      const failed = [...results].filter(([, err]) => err instanceof Error).map(([name]) => name);
      expect(failed).toEqual(
        expect.arrayContaining([
          'gives the same verdict for 1-byte chunks',
          'keeps its verdict beside a slow consumer and a slow source',
        ]),
      );
      if (make !== doesNothing) expect(failed).toContain('passes a 100 MB attachment in bounded memory');
    });
  }

  it('refuses options that expect nothing', () => {
    expect(() =>
      streamSuite({ describe: () => {}, it: () => {} }, 'x', good, { message, expect: {} }),
    ).toThrow(/expects nothing|a disposition or symbols/);
    expect(streamChecks.oneByteChunks(good, { message, expect: {} })).rejects.toThrow(TypeError);
  });

  it('names what is missing and prints the verdict', async () => {
    const err = await streamChecks.oneByteChunks(doesNothing, options).catch((e: unknown) => e);
    expect(String(err)).toContain('disposition accept, expected reject');
    expect(String(err)).toContain('symbol BANNED_EXE missing');
  });
});
