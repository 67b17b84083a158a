/**
 * Scanning in worker threads (`mef scan --workers N`): the rules and the MIME pass are CPU
 * work, so one thread per core scales where `--concurrency` alone only overlaps waiting. Each
 * worker builds its own engine from the same resolved configuration. A whole-file message is
 * opened by the worker itself; a message of an mbox or of standard input is streamed to it in
 * chunks with credit-based flow control, so nothing is buffered whole.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { ResolvedConfig } from './config.js';
import type { InputItem } from './input.js';
import { type ScanResult, toResult } from './report.js';
import { buildEngine } from './setup.js';

type ToWorker =
  | { type: 'scan'; id: number; source: string; path?: string }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'stop' };

type FromWorker =
  | { type: 'ready' }
  | { type: 'setup-failed'; message: string }
  | { type: 'ack'; id: number }
  | { type: 'result'; id: number; result: ScanResult }
  | { type: 'failed'; id: number; message: string };

/** Chunks of one message in flight to a worker before the sender waits for an ack. */
const CREDIT = 8;

/** The worker side: run when the binary is loaded as a worker thread. */
export async function workerMain(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const config = (workerData as { config: ResolvedConfig }).config;
  let built: ReturnType<typeof buildEngine>;
  try {
    built = buildEngine(config);
    await built.engine.start();
  } catch (err) {
    port.postMessage({ type: 'setup-failed', message: (err as Error).message } satisfies FromWorker);
    return;
  }
  const post = (m: FromWorker) => port.postMessage(m);
  const streams = new Map<number, PassThrough>();
  const scan = (id: number, source: string, input: NodeJS.ReadableStream) => {
    const start = performance.now();
    built.engine.scan(input as PassThrough, built.envelope).then(
      (v) => post({ type: 'result', id, result: toResult(source, v, performance.now() - start) }),
      (err: Error) => post({ type: 'failed', id, message: `scan failed: ${err.message}` }),
    );
  };
  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'scan': {
        if (m.path !== undefined) {
          const file = createReadStream(m.path, { highWaterMark: 64 * 1024 });
          file.once('error', (err) =>
            post({ type: 'failed', id: m.id, message: `read failed: ${err.message}` }),
          );
          scan(m.id, m.source, file);
        } else {
          const pass = new PassThrough();
          streams.set(m.id, pass);
          scan(m.id, m.source, pass);
        }
        break;
      }
      case 'chunk': {
        const pass = streams.get(m.id);
        if (!pass || pass.destroyed) {
          post({ type: 'ack', id: m.id });
          break;
        }
        if (pass.write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))) {
          post({ type: 'ack', id: m.id });
        } else {
          Promise.race([once(pass, 'drain'), once(pass, 'close')]).then(
            () => post({ type: 'ack', id: m.id }),
            () => post({ type: 'ack', id: m.id }),
          );
        }
        break;
      }
      case 'end':
        streams.get(m.id)?.end();
        streams.delete(m.id);
        break;
      case 'stop':
        // Teardown (Redis connections, timers), then end this thread: an open handle of a
        // plugin must not keep it alive.
        built.engine.stop().finally(() => process.exit(0));
        break;
    }
  });
  post({ type: 'ready' });
}

interface Pending {
  resolve: (r: ScanResult) => void;
  reject: (e: Error) => void;
  credit: number;
  wake: (() => void) | undefined;
}

class ScanWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;

  constructor(script: string | URL, config: ResolvedConfig) {
    this.worker = new Worker(script, { workerData: { config } });
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'setup-failed') reject(new Error(m.message));
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
    });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready' || m.type === 'setup-failed') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'ack') {
        p.credit++;
        const w = p.wake;
        p.wake = undefined;
        w?.();
      } else if (m.type === 'result') {
        this.pending.delete(m.id);
        p.resolve(m.result);
        p.wake?.();
      } else {
        this.pending.delete(m.id);
        p.reject(new Error(m.message));
        p.wake?.();
      }
    });
    const failAll = (err: Error) => {
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) {
        p.reject(err);
        p.wake?.();
      }
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`worker exited with code ${code}`)));
  }
}

/** A pool of scanning threads; `scan` resolves with the result of one message. */
export class WorkerPool {
  private readonly workers: ScanWorker[];
  private next = 0;

  private constructor(workers: ScanWorker[]) {
    this.workers = workers;
  }

  /** Starts `n` workers and waits until each has set up its engine. */
  static async start(script: string | URL, config: ResolvedConfig, n: number): Promise<WorkerPool> {
    const workers = Array.from({ length: n }, () => new ScanWorker(script, config));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (err) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw err;
    }
    return new WorkerPool(workers);
  }

  async scan(item: Extract<InputItem, { stream: AsyncIterable<Buffer> }>): Promise<ScanResult> {
    // The least busy worker.
    const w = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    let pending!: Pending;
    const done = new Promise<ScanResult>((resolve, reject) => {
      pending = { resolve, reject, credit: CREDIT, wake: undefined };
    });
    w.pending.set(id, pending);
    if (item.path !== undefined) {
      // The worker opens the file itself; close ours.
      (item.stream as unknown as { destroy?: () => void }).destroy?.();
      w.worker.postMessage({ type: 'scan', id, source: item.source, path: item.path } satisfies ToWorker);
      return done;
    }
    w.worker.postMessage({ type: 'scan', id, source: item.source } satisfies ToWorker);
    let failed = false;
    done.catch(() => {
      failed = true;
    });
    for await (const chunk of item.stream) {
      if (failed || !w.pending.has(id)) break;
      while (pending.credit <= 0 && w.pending.has(id)) {
        await new Promise<void>((r) => {
          pending.wake = r;
        });
      }
      pending.credit--;
      const copy = new Uint8Array(chunk.byteLength);
      copy.set(chunk);
      w.worker.postMessage({ type: 'chunk', id, data: copy } satisfies ToWorker, [copy.buffer]);
    }
    w.worker.postMessage({ type: 'end', id } satisfies ToWorker);
    return done;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const exited = once(w.worker, 'exit').catch(() => {});
        w.worker.postMessage({ type: 'stop' } satisfies ToWorker);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        await w.worker.terminate();
      }),
    );
  }
}
