/**
 * A pool of worker threads that run the message phase for a host (the Haraka plugin, the
 * milter): each thread has its own engine, built by the host's worker file, which calls
 * `serveThread(engine)`. The host's event loop only streams the message to a thread and applies
 * the verdict it gets back, so the rules, the MIME pass and the scanner calls run on another
 * core. Meant for an engine with no stage at an envelope phase: the thread hears the envelope
 * the host accepted with the message and runs it all at once.
 */
import { Worker } from 'node:worker_threads';
import type { ConnectionInfo, EnvelopeAddress } from '../context.js';
import type { Verdict } from '../verdict.js';

/** What a thread's engine hears about the client and the envelope the host accepted. */
export interface ThreadEnvelope {
  /** The client, as `engine.connection()` takes it (without `user`: see `user`). */
  readonly connection: ConnectionInfo;
  /** The HELO/EHLO name the client gave. */
  readonly helo?: string;
  /** The user the client authenticated as: the engine records it, with direction `outbound`. */
  readonly user?: string;
  /** The sender (empty for the null sender), with its ESMTP parameters when the host has them. */
  readonly mailFrom: string | EnvelopeAddress;
  /** The recipients the host accepted. */
  readonly rcptTo: readonly (string | EnvelopeAddress)[];
}

/**
 * Host to thread: a piece of one message. The first carries the envelope, the last `end` (and
 * `error` when reading the message failed); chunks go with either, so a small message is one
 * postMessage.
 */
export interface ToThread {
  readonly id: number;
  readonly envelope?: ThreadEnvelope;
  readonly chunks: readonly Uint8Array[];
  readonly end?: true;
  readonly error?: string;
}

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

/** Thread to host. */
export type FromThread =
  | ({ readonly t: 'done'; readonly id: number } & ThreadResult)
  | { readonly t: 'failed'; readonly id: number; readonly message: string };

/** One message on its way through a thread. */
export interface ThreadScan {
  /** Sends a chunk of the message (a copy of its bytes) to the thread. */
  write(chunk: Uint8Array): void;
  /** The message is complete; `error` says why reading it failed (the engine's `fail`). */
  end(error?: string): Promise<ThreadResult>;
}

/** How to start the threads. */
export interface ThreadPoolOptions {
  /** How many threads (1 or more). */
  readonly size: number;
  /** The worker file: it builds an engine (from `workerData`) and calls `serveThread(engine)`. */
  readonly file: string | URL;
  /** What each worker gets as `workerData` (structured-cloned): its engine's configuration. */
  readonly workerData?: unknown;
}

interface Pending {
  resolve(r: ThreadResult): void;
  reject(e: Error): void;
}

class Thread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  dead = false;

  constructor(options: ThreadPoolOptions) {
    this.worker = new Worker(options.file, { workerData: options.workerData });
    this.worker.unref();
    this.worker.on('message', (m: FromThread) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.t === 'done') p.resolve(m);
      else p.reject(new Error(m.message));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`mef thread exited with code ${code} while reading the message`)),
    );
  }

  /** The thread is gone: its messages in flight fail with `err` (the host defers them). */
  fail(err: Error): void {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** Bytes of a message held before they go to its thread. */
const HOLD_BYTES = 64 * 1024;

/** A copy of exactly a chunk's bytes, to hand over (a Buffer's shared pool would be cloned whole). */
function own(chunk: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(chunk);
}

/**
 * A fixed number of threads; each message goes to the one with the fewest in flight. A thread
 * that dies fails its messages and is replaced at the next message.
 */
export class ThreadPool {
  readonly #threads: Thread[] = [];
  readonly #options: ThreadPoolOptions;
  #next = 0;
  #stopped = false;

  constructor(options: ThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new TypeError(`ThreadPool: size must be a whole number of 1 or more, got ${options.size}`);
    }
    this.#options = options;
    for (let i = 0; i < options.size; i++) this.#threads.push(new Thread(options));
  }

  /**
   * Starts a message. Chunks are held until 64 KiB gather or the message ends, and go in one
   * postMessage with the envelope (the first) or the end (the last): a message under 64 KiB
   * is one postMessage, one wake-up of the thread.
   */
  scan(envelope: ThreadEnvelope): ThreadScan {
    if (this.#stopped) throw new Error('ThreadPool: the pool was stopped; no thread takes a message');
    const thread = this.#pick();
    const id = ++this.#next;
    const result = new Promise<ThreadResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
    });
    result.catch(() => {});
    let first: ThreadEnvelope | undefined = envelope;
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    let ended = false;
    const post = (last: { end: true; error?: string } | undefined) => {
      const m: ToThread = { id, chunks: held, ...(first ? { envelope: first } : {}), ...last };
      thread.worker.postMessage(
        m,
        held.map((c) => c.buffer as ArrayBuffer),
      );
      first = undefined;
      held = [];
      heldBytes = 0;
    };
    return {
      write(chunk: Uint8Array) {
        if (ended || chunk.length === 0) return;
        held.push(own(chunk));
        heldBytes += chunk.length;
        if (heldBytes >= HOLD_BYTES) post(undefined);
      },
      end(error?: string) {
        if (!ended) {
          ended = true;
          post({ end: true, ...(error !== undefined ? { error } : {}) });
        }
        return result;
      },
    };
  }

  #pick(): Thread {
    for (let i = 0; i < this.#threads.length; i++) {
      if (this.#threads[i]?.dead) this.#threads[i] = new Thread(this.#options);
    }
    let best = this.#threads[0] as Thread;
    for (const t of this.#threads) if (t.pending.size < best.pending.size) best = t;
    return best;
  }

  /** How many threads the pool keeps. */
  get size(): number {
    return this.#options.size;
  }

  /**
   * Ends every thread. Messages still in flight fail (their `end()` rejects); `scan()` throws
   * from now on.
   */
  stop(): Promise<unknown> {
    this.#stopped = true;
    return Promise.all(
      this.#threads.map((t) => {
        t.fail(new Error('ThreadPool: the pool was stopped with the message in flight'));
        return t.worker.terminate();
      }),
    );
  }
}
