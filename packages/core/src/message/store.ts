import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** Where a kept message lives while the transaction lasts. */
export interface MessageStoreOptions {
  /** Bytes kept in memory before spilling to a temporary file. Default 1 MiB. */
  memoryLimit?: number;
  /** Folder for spill files. Default: the OS temporary folder. */
  dir?: string;
}

/**
 * Keeps one message for the length of a transaction: in memory up to a threshold, then in
 * a temporary file (mode 0600) that `dispose()` removes. Nothing outlives the transaction.
 */
export class MessageStore {
  private chunks: Buffer[] = [];
  private memBytes = 0;
  private file: WriteStream | undefined;
  private folder: string | undefined;
  private path: string | undefined;
  private ended = false;
  private disposed = false;
  size = 0;

  constructor(private readonly options: MessageStoreOptions = {}) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.disposed || this.ended) return;
    this.size += chunk.length;
    if (!this.file) {
      const limit = this.options.memoryLimit ?? 1024 * 1024;
      if (this.memBytes + chunk.length <= limit) {
        this.chunks.push(chunk);
        this.memBytes += chunk.length;
        return;
      }
      this.folder = await mkdtemp(join(this.options.dir ?? tmpdir(), 'mef-'));
      this.path = join(this.folder, 'message.eml');
      this.file = createWriteStream(this.path, { mode: 0o600 });
      for (const c of this.chunks) this.file.write(c);
      this.chunks = [];
      this.memBytes = 0;
    }
    if (!this.file.write(chunk)) await once(this.file, 'drain');
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.file) {
      this.file.end();
      await once(this.file, 'finish');
    }
  }

  /** Reads the stored bytes from `start` (inclusive). */
  read(start = 0): Readable {
    if (this.disposed) throw new Error('message store disposed');
    if (this.path) return createReadStream(this.path, { start });
    return Readable.from(this.memoryChunks(start) as Buffer[], { objectMode: false });
  }

  /**
   * The stored bytes from `start` (inclusive) as the chunks held in memory (no copy), or
   * undefined when the message went to a temporary file.
   */
  memoryChunks(start = 0): Buffer[] | undefined {
    if (this.disposed) throw new Error('message store disposed');
    if (this.path) return undefined;
    const out: Buffer[] = [];
    let skip = start;
    for (const c of this.chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      out.push(skip ? c.subarray(skip) : c);
      skip = 0;
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.chunks = [];
    if (this.file && !this.file.closed) this.file.destroy();
    if (this.folder) await rm(this.folder, { recursive: true, force: true });
  }
}
