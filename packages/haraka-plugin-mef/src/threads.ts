/**
 * The opt-in thread pool (`config/mef.ini`: `[main] threads=N`): the message phase runs in
 * worker threads, each with its own engine built from the same `config/mef.yaml`, so Haraka's
 * event loop only streams the message to a thread and applies the verdict it gets back. Used
 * only when no stage acts at an envelope phase (the engine then needs nothing before DATA).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Verdict } from '@mef/core';

/** What the engine hears about the client and the envelope Haraka accepted. */
export interface ThreadEnvelope {
  /** The client, as `engine.connection()` takes it. */
  readonly connection: {
    readonly id: string;
    readonly clientAddress: string;
    readonly clientPort?: number;
    readonly reverseName?: string;
    readonly direction: 'inbound' | 'outbound';
  };
  /** The HELO/EHLO name the client gave. */
  readonly helo?: string;
  /** The user an auth plugin accepted (`connection.notes.auth_user`). */
  readonly user?: string;
  /** The sender; empty for the null sender. */
  readonly mailFrom: string;
  /** The recipients Haraka accepted. */
  readonly rcptTo: readonly string[];
}

/** Main thread to worker: a message's envelope, its chunks, its end. */
export type ToThread =
  | { readonly t: 'begin'; readonly id: number; readonly envelope: ThreadEnvelope }
  | { readonly t: 'chunk'; readonly id: number; readonly data: Uint8Array }
  | { readonly t: 'end'; readonly id: number; readonly error?: string };

/** What a thread found: the verdict, or the envelope's refusal (`refused`). */
export interface ThreadResult {
  /** The message's verdict, or the envelope's refusal. */
  readonly verdict: Verdict;
  /** True when the envelope was refused before the message (the verdict answers it). */
  readonly refused: boolean;
  /** The transaction's direction (`inbound`, or `outbound` for an authenticated client). */
  readonly direction: string;
  /** The authenticated user, when there was one. */
  readonly user?: string;
}

/** Worker to main thread. */
export type FromThread =
  | ({ readonly t: 'done'; readonly id: number } & ThreadResult)
  | { readonly t: 'failed'; readonly id: number; readonly message: string };

/** One message on its way through a thread. */
export interface ThreadScan {
  /** Sends a chunk of the message (a copy of its bytes) to the thread. */
  write(chunk: Buffer): void;
  /** The message is complete; `error` says why reading it failed (the engine's `fail`). */
  end(error?: string): Promise<ThreadResult>;
}

interface Pending {
  resolve(r: ThreadResult): void;
  reject(e: Error): void;
}

/**
 * The worker's file beside this bundle (`worker.cjs` or `worker.js` in `dist`); from the
 * sources (`src`, as the tests import them), the built one in `../dist`.
 */
function workerFile(): string {
  const dir = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const name = typeof __dirname === 'string' ? 'worker.cjs' : 'worker.js';
  const file = [join(dir, name), join(dir, '..', 'dist', name)].find((f) => existsSync(f));
  if (!file)
    throw new Error(`haraka-plugin-mef: threads need the built plugin (${join(dir, name)} is missing)`);
  return file;
}

class Thread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  dead = false;

  constructor(file: string, config: unknown) {
    this.worker = new Worker(file, { workerData: { config } });
    this.worker.unref();
    this.worker.on('message', (m: FromThread) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.t === 'done') p.resolve(m);
      else p.reject(new Error(m.message));
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`mef thread exited with code ${code}`)));
  }
}

/** A fixed number of threads; each message goes to the one with the fewest in flight. */
export class ThreadPool {
  readonly #threads: Thread[] = [];
  readonly #file: string;
  readonly #config: unknown;
  readonly #size: number;
  #next = 0;

  constructor(size: number, config: unknown) {
    this.#file = workerFile();
    this.#config = config;
    this.#size = size;
    for (let i = 0; i < size; i++) this.#threads.push(new Thread(this.#file, config));
  }

  /** Starts a message: the envelope goes to a thread now, the chunks as they come. */
  scan(envelope: ThreadEnvelope): ThreadScan {
    const thread = this.#pick();
    const id = ++this.#next;
    const result = new Promise<ThreadResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
    });
    result.catch(() => {});
    const post = (m: ToThread, transfer?: ArrayBuffer[]) => thread.worker.postMessage(m, transfer);
    post({ t: 'begin', id, envelope });
    return {
      write(chunk: Buffer) {
        // A copy of exactly the chunk's bytes, handed over (a Buffer's pool would be cloned whole).
        const data = Uint8Array.prototype.slice.call(chunk);
        post({ t: 'chunk', id, data }, [data.buffer as ArrayBuffer]);
      },
      end(error?: string) {
        post({ t: 'end', id, ...(error !== undefined ? { error } : {}) });
        return result;
      },
    };
  }

  #pick(): Thread {
    for (let i = 0; i < this.#threads.length; i++) {
      if (this.#threads[i]?.dead) this.#threads[i] = new Thread(this.#file, this.#config);
    }
    let best = this.#threads[0] as Thread;
    for (const t of this.#threads) if (t.pending.size < best.pending.size) best = t;
    return best;
  }

  /** How many threads the pool keeps. */
  get size(): number {
    return this.#size;
  }

  /** Ends every thread. */
  stop(): Promise<unknown> {
    return Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
