import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine } from '../engine/engine.js';
import type { EngineOptions } from '../engine/options.js';
import type { Plugin } from '../plugin.js';
import type { Verdict } from '../verdict.js';
import { checkExpectation, meets, type StreamExpectation } from './expectation.js';
import { runEngine } from './run.js';

/** The parts of a test runner the suite needs (vitest, jest, node:test all fit). */
export interface TestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void>, testTimeout?: number) => void;
}

/** Options of the stream suite. */
export interface StreamSuiteOptions {
  /** The stage's detecting message: one on which it must produce `expect`. */
  message: Buffer;
  /** What the stage must produce on `message`. */
  expect: StreamExpectation;
  /** Engine options for every run (a plugin may need limits or timeouts). */
  engine?: EngineOptions;
  /** Peak memory growth allowed while the 100 MB message flows. Default 64 MiB. */
  maxMemoryGrowth?: number;
  /** Size of the large attachment. Default 100 MiB. */
  largeBytes?: number;
  /** Per-check timeout for the test runner, ms. Default 120,000. */
  testTimeout?: number;
}

function checkOptions(o: StreamSuiteOptions): void {
  if (!o || !Buffer.isBuffer(o.message)) {
    throw new TypeError('streamSuite needs options.message: the message the stage must detect something in');
  }
  checkExpectation('streamSuite', o.expect);
}

function summary(v: Verdict): string {
  return JSON.stringify({
    disposition: v.disposition,
    symbols: v.symbols.map((s) => `${s.name}:${s.score}`).sort(),
    errors: v.errors.map((e) => e.code).sort(),
  });
}

function chunked(buf: Buffer, size: number, delayMs = 0): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < buf.length; i += size) {
        if (delayMs) await sleep(delayMs);
        yield buf.subarray(i, i + size);
      }
    })(),
    { objectMode: false, highWaterMark: 1 },
  );
}

/**
 * A message with one attachment of `bytes` decoded bytes, generated as it is read: it never
 * exists whole in memory. The attachment is pseudo-random (so no scanner cache or
 * compressor makes it cheap) and base64 encoded.
 */
export function generateLargeMessage(bytes: number, options: { seed?: number } = {}): Readable {
  let seed = options.seed ?? 12345;
  const head = Buffer.from(
    [
      'From: Sender <sender@example.test>',
      'To: rcpt@example.test',
      'Subject: Large attachment',
      'Date: Thu, 26 Nov 2026 10:00:00 +0000',
      'Message-ID: <large@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="large-boundary"',
      '',
      '--large-boundary',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'A large attachment follows.',
      '--large-boundary',
      'Content-Type: application/octet-stream; name="large.bin"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="large.bin"',
      '',
      '',
    ].join('\r\n'),
  );
  const tail = Buffer.from('\r\n--large-boundary--\r\n');
  return Readable.from(
    (function* () {
      yield head;
      const block = 57 * 1024; // 57 bytes -> one 76-char base64 line
      let left = bytes;
      while (left > 0) {
        const n = Math.min(block, left);
        const words = Buffer.allocUnsafe(Math.ceil(n / 4) * 4);
        for (let i = 0; i < words.length; i += 4) {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          words.writeUInt32LE(seed, i);
        }
        const raw = words.subarray(0, n);
        left -= n;
        const b64 = raw.toString('base64');
        const lines = b64.match(/.{1,76}/g) ?? [];
        yield Buffer.from(`${lines.join('\r\n')}\r\n`);
      }
      yield tail;
    })(),
    { objectMode: false },
  );
}

/** A sibling stage that reads every part and the raw bytes slowly. */
function slowSibling(): Plugin {
  return {
    name: 'mef-test-slow-consumer',
    priority: 1_000,
    message(ctx) {
      const raw = ctx.message.raw();
      ctx.message.parts({}, async (part) => {
        for await (const _ of part.content) await sleep(1);
      });
      return (async () => {
        for await (const _ of raw) await sleep(1);
      })();
    },
  };
}

/** The checks of the stream suite as plain async functions; each throws on failure. */
export const streamChecks = {
  /** Feeding the message one byte at a time gives the same verdict as feeding it whole. */
  async oneByteChunks(make: () => Plugin | Plugin[], o: StreamSuiteOptions): Promise<void> {
    checkOptions(o);
    const msg = o.message;
    const whole = await runWith(make, () => Readable.from([msg]), o.engine);
    meets(whole, o.expect, 'whole message');
    const bytes = await runWith(make, () => chunked(msg, 1), o.engine);
    meets(bytes, o.expect, '1-byte chunks');
    if (summary(whole) !== summary(bytes)) {
      throw new Error(
        `1-byte chunks changed the verdict:\nwhole: ${summary(whole)}\n1-byte: ${summary(bytes)}`,
      );
    }
  },

  /** A slow sibling consumer and a slow source slow the pass but do not change the verdict. */
  async slowConsumer(make: () => Plugin | Plugin[], o: StreamSuiteOptions): Promise<void> {
    checkOptions(o);
    const msg = o.message;
    const plain = await runWith(make, () => Readable.from([msg]), o.engine);
    meets(plain, o.expect, 'plain run');
    const slow = await runWith(
      () => [...asArray(make()), slowSibling()],
      () => chunked(msg, 512, 1),
      o.engine,
    );
    meets(slow, o.expect, 'beside a slow consumer');
    const strip = (v: Verdict) =>
      summary({ ...v, symbols: v.symbols.filter((s) => s.stage !== 'mef-test-slow-consumer') });
    if (strip(plain) !== strip(slow)) {
      throw new Error(`a slow consumer changed the verdict:\nplain: ${strip(plain)}\nslow: ${strip(slow)}`);
    }
  },

  /** A source that fails mid-message ends in tempfail within the timeout, with no unhandled rejection. */
  async abortedSource(make: () => Plugin | Plugin[], o: StreamSuiteOptions): Promise<void> {
    checkOptions(o);
    const msg = o.message;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const source = Readable.from(
        (async function* () {
          yield msg.subarray(0, Math.floor(msg.length / 2));
          await sleep(5);
          throw new Error('connection reset by peer');
        })(),
        { objectMode: false },
      );
      const v = await runWith(make, () => source, o.engine);
      if (v.disposition !== 'tempfail' || !v.errors.some((e) => e.code === 'MEF_CORE_SOURCE_ABORTED')) {
        throw new Error(
          `an aborted source must give tempfail with MEF_CORE_SOURCE_ABORTED, got ${summary(v)}`,
        );
      }
      await sleep(20);
      if (unhandled.length)
        throw new Error(`unhandled rejection after an aborted source: ${String(unhandled[0])}`);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  },

  /** A 100 MB attachment flows through in bounded memory. */
  async largeAttachment(
    make: () => Plugin | Plugin[],
    o: StreamSuiteOptions,
  ): Promise<{ peakGrowth: number }> {
    checkOptions(o);
    const bytes = o.largeBytes ?? 100 * 1024 * 1024;
    const bound = o.maxMemoryGrowth ?? 64 * 1024 * 1024;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = used();
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, used());
    }, 5);
    try {
      const engine = {
        ...(o.engine ?? {}),
        limits: { ...(o.engine?.limits ?? {}), maxMessageBytes: bytes * 2 },
      };
      const v = await runWith(make, () => generateLargeMessage(bytes), engine);
      if (v.symbols.some((s) => s.name === 'MEF_LIMIT_SIZE'))
        throw new Error('size limit hit in the large check');
      for (const err of v.errors) {
        throw new Error(`large attachment: stage ${err.stage} recorded error ${err.code}: ${err.message}`);
      }
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, used());
    const growth = peak - base;
    if (growth > bound) {
      throw new Error(
        `memory grew by ${(growth / 1048576).toFixed(1)} MiB, bound ${(bound / 1048576).toFixed(1)} MiB`,
      );
    }
    return { peakGrowth: growth };
  },
};

function asArray(p: Plugin | Plugin[]): Plugin[] {
  return Array.isArray(p) ? p : [p];
}

async function runWith(
  make: () => Plugin | Plugin[],
  source: () => Readable,
  engineOptions: EngineOptions | undefined,
): Promise<Verdict> {
  const engine = createEngine(engineOptions ?? {});
  for (const p of asArray(make())) engine.use(p);
  try {
    return await runEngine(engine, source);
  } finally {
    await engine.stop();
  }
}

/**
 * Registers the shared stream suite for a streaming stage with your test runner:
 * `streamSuite({ describe, it }, 'my-plugin', () => myPlugin(), { message, expect: { symbols: ['MY_SYMBOL'] } })`.
 * Each check fails when the stage misses `expect` on `message` or records an error.
 */
export function streamSuite(
  api: TestApi,
  name: string,
  make: () => Plugin | Plugin[],
  options: StreamSuiteOptions,
): void {
  checkOptions(options);
  const t = options.testTimeout ?? 120_000;
  api.describe(`${name}: stream suite`, () => {
    api.it('gives the same verdict for 1-byte chunks', () => streamChecks.oneByteChunks(make, options), t);
    api.it(
      'keeps its verdict beside a slow consumer and a slow source',
      () => streamChecks.slowConsumer(make, options),
      t,
    );
    api.it(
      'ends an aborted source in tempfail without unhandled rejections',
      () => streamChecks.abortedSource(make, options),
      t,
    );
    api.it(
      'passes a 100 MB attachment in bounded memory',
      async () => {
        await streamChecks.largeAttachment(make, options);
      },
      t,
    );
  });
}
