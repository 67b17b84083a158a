/**
 * `ThreadPool` and `serveThread` on their own: real worker threads, each running a small engine
 * (test/support/thread-engine.ts) whose one stage reads the whole message.
 */
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { type ThreadEnvelope, ThreadPool, type ThreadResult } from '../src/hosts/index.js';

const file = new URL('./support/thread-engine.mjs', import.meta.url);
const envelope: ThreadEnvelope = {
  connection: { clientAddress: '192.0.2.7' },
  helo: 'client.example',
  mailFrom: 'sender@example.org',
  rcptTo: ['rcpt@example.net'],
};
const pools: ThreadPool[] = [];
afterAll(() => Promise.all(pools.map((p) => p.stop())));

function pool(size: number, workerData?: unknown): ThreadPool {
  const p = new ThreadPool({ size, file, ...(workerData !== undefined ? { workerData } : {}) });
  pools.push(p);
  return p;
}

/** A message of about `bodyBytes` bytes, with `marker` in its body. */
function message(bodyBytes: number, marker = ''): Buffer {
  const line = `${'a'.repeat(76)}\r\n`;
  const body = line.repeat(Math.ceil(bodyBytes / line.length));
  return Buffer.from(`Subject: pool test\r\nFrom: sender@example.org\r\n\r\n${marker}\r\n${body}`);
}

/** The THREAD_READ symbol's options: the bytes the stage read and its thread's id. */
function readBy(r: ThreadResult): { bytes: number; thread: number } {
  const s = r.verdict.symbols.find((x) => x.name === 'THREAD_READ');
  if (!s?.options) throw new Error(`no THREAD_READ in ${JSON.stringify(r.verdict.symbols)}`);
  return { bytes: Number(s.options[0]), thread: Number(s.options[1]) };
}

/** Sends `bytes` in pieces of `piece` bytes, then ends the message. */
function send(p: ThreadPool, bytes: Buffer, piece: number, env = envelope): Promise<ThreadResult> {
  const scan = p.scan(env);
  for (let at = 0; at < bytes.length; at += piece) scan.write(bytes.subarray(at, at + piece));
  return scan.end();
}

describe('ThreadPool and serveThread', () => {
  it('streams a message in chunks to a thread and gets its verdict back', async () => {
    const p = pool(1);
    // 200 KB in 7 KB pieces: several postMessages (64 KiB each) and a last one with the end.
    const bytes = message(200_000);
    const r = await send(p, bytes, 7_000);
    expect(r.refused).toBe(false);
    expect(r.verdict.disposition).toBe('accept');
    expect(r.direction).toBe('inbound');
    const read = readBy(r);
    expect(read.bytes).toBe(bytes.length);
    expect(read.thread).not.toBe(threadId);
    // A small message is one postMessage (envelope, chunk and end together): same verdict path.
    const small = await send(p, message(100, 'XBAD'), 1_000);
    expect(small.verdict.disposition).toBe('reject');
    expect(small.verdict.symbols.map((s) => s.name)).toContain('THREAD_BAD');
  });

  it('copies what it is given: the caller may reuse its buffer at once', async () => {
    const p = pool(1);
    const bytes = message(100, 'XBAD');
    const scan = p.scan(envelope);
    scan.write(bytes);
    bytes.fill(0x61);
    expect((await scan.end()).verdict.disposition).toBe('reject');
  });

  it('gives the engine the authenticated user, and the host a failed read as the engine fail policy', async () => {
    const p = pool(1);
    const r = await send(p, message(100), 1_000, { ...envelope, user: 'alice' });
    expect(r.user).toBe('alice');
    expect(r.direction).toBe('outbound');
    const scan = p.scan(envelope);
    scan.write(message(100));
    // The host could not read the whole message (a client gone, a spool error).
    const failed = await scan.end('the client went away');
    expect(failed.verdict.disposition).toBe('tempfail');
  });

  it('spreads messages in flight over its threads, each with its own verdict', async () => {
    const p = pool(2);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => send(p, message(3_000 * (i + 1), i % 3 ? '' : 'XBAD'), 2_000)),
    );
    expect(results.map((r) => r.verdict.disposition)).toEqual([
      'reject',
      'accept',
      'accept',
      'reject',
      'accept',
      'accept',
    ]);
    expect(new Set(results.map((r) => readBy(r).thread)).size).toBe(2);
  });

  it('fails a message whose thread dies in the middle of it, and runs the next in a new thread', async () => {
    const p = pool(1);
    const first = readBy(await send(p, message(100), 1_000)).thread;
    const scan = p.scan(envelope);
    // More than 64 KiB: this part reaches the thread (and kills it) before the rest is written.
    scan.write(message(70_000, 'XDIE'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    scan.write(message(10_000));
    const started = Date.now();
    await expect(scan.end()).rejects.toThrow(/mef thread exited with code 3/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const next = await send(p, message(100), 1_000);
    expect(next.verdict.disposition).toBe('accept');
    expect(readBy(next).thread).not.toBe(first);
  });

  it('fails each message with the error of a thread that cannot start, without hanging', async () => {
    const p = pool(1, { broken: true });
    for (let i = 0; i < 2; i++) {
      await expect(send(p, message(100), 1_000)).rejects.toThrow(/this engine cannot be built/);
    }
  });

  it('stop() ends the threads: a message in flight fails, a new one is refused', async () => {
    const p = pool(2);
    await send(p, message(100), 1_000);
    const scan = p.scan(envelope);
    scan.write(message(100));
    await p.stop();
    await expect(scan.end()).rejects.toThrow(/pool was stopped/);
    expect(() => p.scan(envelope)).toThrow(/pool was stopped/);
  });

  it('refuses a size that is not a whole number of 1 or more', () => {
    expect(() => new ThreadPool({ size: 0, file })).toThrow(TypeError);
    expect(() => new ThreadPool({ size: 1.5, file })).toThrow(/whole number/);
  });
});
