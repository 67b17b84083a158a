import { describe, expect, it } from 'vitest';
import { FrameQueue, type FrameQueueHost } from '../src/frame-queue.js';
import type { Frame } from '../src/protocol.js';

const frame = (command: string): Frame => ({ command, data: Buffer.alloc(0) });

/** A host that records what the queue did; `slow` commands wait for `release()`. */
function recorder(slow: readonly string[] = [], failOn?: string) {
  const handled: string[] = [];
  const events: string[] = [];
  const waiting: (() => void)[] = [];
  const failures: unknown[] = [];
  let queue: FrameQueue | undefined;
  const host: FrameQueueHost = {
    handle(f) {
      handled.push(f.command);
      if (f.command === failOn) throw new Error(`bad ${f.command}`);
      if (!slow.includes(f.command)) return undefined;
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    fail(err) {
      failures.push(err);
      queue?.stop();
    },
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  };
  queue = new FrameQueue(host);
  const release = async () => {
    waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { queue, handled, events, failures, release };
}

describe('FrameQueue', () => {
  it('handles frames that need no engine work in the same tick, in order', () => {
    const r = recorder();
    r.queue.push([frame('D'), frame('C'), frame('D')]);
    expect(r.handled).toEqual(['D', 'C', 'D']);
  });

  it('holds the frames after one that waits for the engine until it settles, then goes on in order', async () => {
    const r = recorder(['C']);
    r.queue.push([frame('D'), frame('C'), frame('D')]);
    r.queue.push([frame('H')]);
    expect(r.handled).toEqual(['D', 'C']);
    await r.release();
    expect(r.handled).toEqual(['D', 'C', 'D', 'H']);
    r.queue.push([frame('Q')]);
    expect(r.handled).toEqual(['D', 'C', 'D', 'H', 'Q']);
  });

  it('a frame that throws fails the connection and nothing after it is handled', () => {
    const r = recorder([], 'X');
    r.queue.push([frame('D'), frame('X'), frame('D')]);
    expect(r.handled).toEqual(['D', 'X']);
    expect(String(r.failures[0])).toContain('bad X');
    r.queue.push([frame('D')]);
    expect(r.handled).toEqual(['D', 'X']);
  });

  it('a rejected engine call fails the connection once', async () => {
    let reject: (err: Error) => void = () => {};
    const failures: unknown[] = [];
    const handled: string[] = [];
    const q: FrameQueue = new FrameQueue({
      handle(f) {
        handled.push(f.command);
        return f.command === 'C'
          ? new Promise<void>((_, rej) => {
              reject = rej;
            })
          : undefined;
      },
      fail(err) {
        failures.push(err);
        q.stop();
      },
      pause() {},
      resume() {},
    });
    q.push([frame('C'), frame('D')]);
    reject(new Error('engine failed'));
    await new Promise((r) => setImmediate(r));
    expect(failures).toHaveLength(1);
    expect(handled).toEqual(['C']);
  });

  it('pauses the socket at 16 frames waiting and resumes it below 8', async () => {
    const r = recorder(['C']);
    r.queue.push([frame('C'), ...Array.from({ length: 16 }, () => frame('D'))]);
    expect(r.events).toEqual(['pause']);
    await r.release();
    expect(r.handled).toHaveLength(17);
    expect(r.events.slice(0, 2)).toEqual(['pause', 'resume']);
  });
});
