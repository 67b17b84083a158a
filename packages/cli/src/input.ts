import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MboxSplitter, startsWithFrom } from './mbox.js';

/** One message to scan, or a path that gave none. */
export type InputItem =
  | {
      readonly source: string;
      readonly stream: AsyncIterable<Buffer>;
      readonly error?: undefined;
      /** Set when the message is a whole file: another thread may open it by this path. */
      readonly path?: string;
    }
  | { readonly source: string; readonly error: string; readonly stream?: undefined };

/** Where `-` reads from (tests and embedding may pass another stream). */
export interface InputOptions {
  readonly stdin?: Readable;
  /** Inside directories, only files whose names end with one of these (`.eml`, `.txt`). */
  readonly extensions?: readonly string[];
}

/**
 * Decides from the first bytes whether this is a message: an empty file or a first line with
 * control bytes (binary data) is refused with the reason. A first line that is no header field
 * is a message without a header block: the engine reads it as a body (MEF_MISSING_HEADERS),
 * as a relay would have to judge it.
 */
export function sniff(head: Buffer): 'mbox' | 'message' | string {
  if (head.length === 0) return 'empty file';
  if (startsWithFrom(head)) return 'mbox';
  // Only the first line is judged: a message body may be binary (Content-Transfer-Encoding: binary).
  const nl = head.indexOf(0x0a);
  const first = head.subarray(0, nl === -1 ? Math.min(head.length, 1000) : nl);
  if (first.some((b) => b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f))
    return 'binary data, not a message';
  return 'message';
}

/** Reads at least `n` bytes (or to the end) and gives them back with the rest of the stream. */
async function peek(
  source: AsyncIterable<Buffer | string>,
  n: number,
): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    size += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  return { head, stream: rest() };
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message ?? String(err);
  }
}

/** Every regular file below `dir`, in sorted order (byte order of names, depth first). */
async function* walk(
  dir: string,
  extensions: readonly string[] | undefined,
): AsyncGenerator<{ path: string } | { path: string; error: string }> {
  let entries: Dirent[];
  try {
    // The entry types come with the listing: no stat per file (a stat per file, one after
    // the other, is what a large folder would wait on).
    entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (err) {
    yield { path: dir, error: reason(err) };
    return;
  }
  for (const entry of entries) {
    const p = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (
      entry.isSymbolicLink() ||
      (!isDir && !isFile && entry.isFIFO?.() !== true && entry.isSocket?.() !== true)
    ) {
      try {
        const st = await stat(p);
        // Follow a link to a file, never a link to a folder (no loops).
        if (st.isDirectory()) continue;
        isDir = false;
        isFile = st.isFile();
      } catch (err) {
        yield { path: p, error: reason(err) };
        continue;
      }
    }
    if (isDir) yield* walk(p, extensions);
    else if (isFile && (!extensions || extensions.some((e) => entry.name.endsWith(e)))) yield { path: p };
  }
}

/** The messages of one stream: itself, or each message of an mbox as `source#N`. */
async function* fromStream(
  source: string,
  input: AsyncIterable<Buffer | string>,
  close: () => Promise<void>,
  path?: string,
): AsyncGenerator<InputItem> {
  let closed = false;
  let handedOff = false;
  const finish = async () => {
    if (closed || handedOff) return;
    closed = true;
    await close();
  };
  try {
    const { head, stream } = await peek(input, 4096);
    const kind = sniff(head);
    if (kind === 'message') {
      // The reader closes the file when it is done (or destroys the stream unread).
      handedOff = true;
      let once: Promise<void> | undefined;
      const closeOnce = () => {
        once ??= close();
        return once;
      };
      const readable = Readable.from(closeAtEnd(stream, closeOnce), { objectMode: false });
      // Destroyed before its first read, the generator never runs its `finally`: close here too.
      readable.once('close', () => void closeOnce());
      yield path === undefined ? { source, stream: readable } : { source, stream: readable, path };
      return;
    }
    if (kind !== 'mbox') {
      await finish();
      yield { source, error: kind };
      return;
    }
    const splitter = new MboxSplitter(stream);
    let n = 0;
    for (;;) {
      let msg: Readable | null;
      try {
        msg = await splitter.next();
      } catch (err) {
        yield { source: `${source}#${n + 1}`, error: `read failed: ${reason(err)}` };
        break;
      }
      if (!msg) break;
      n++;
      yield { source: `${source}#${n}`, stream: msg };
    }
    if (n === 0) yield { source, error: 'an mbox without messages' };
  } catch (err) {
    yield { source, error: `read failed: ${reason(err)}` };
  } finally {
    await finish();
  }
}

async function* closeAtEnd(
  stream: AsyncIterable<Buffer>,
  close: () => Promise<void>,
): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } finally {
    await close();
  }
}

async function* fromFile(path: string): AsyncGenerator<InputItem> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    yield { source: path, error: reason(err) };
    return;
  }
  const stream = handle.createReadStream({ autoClose: false, highWaterMark: 64 * 1024 });
  yield* fromStream(
    path,
    stream,
    async () => {
      stream.destroy();
      await handle.close().catch(() => {});
    },
    path,
  );
}

/**
 * The messages named by the command line, in order: a message file, every regular file below a
 * directory (sorted), each message of an mbox (`path#N`), or `-` for standard input.
 */
async function* single(item: InputItem): AsyncGenerator<InputItem> {
  yield item;
}

/** One generator per file (or other input unit), in input order. */
async function* units(
  paths: readonly string[],
  options: InputOptions,
): AsyncGenerator<AsyncGenerator<InputItem>> {
  for (const path of paths) {
    if (path === '-') {
      const stdin = options.stdin ?? process.stdin;
      yield fromStream('-', stdin as AsyncIterable<Buffer>, async () => {});
      continue;
    }
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch (err) {
      yield single({ source: path, error: reason(err) });
      continue;
    }
    if (st.isDirectory()) {
      let files = 0;
      for await (const entry of walk(path, options.extensions)) {
        if ('error' in entry) {
          yield single({ source: entry.path, error: entry.error });
          continue;
        }
        files++;
        yield fromFile(entry.path);
      }
      if (files === 0) yield single({ source: path, error: 'a directory without messages' });
    } else {
      yield fromFile(path);
    }
  }
}

/** Files opened ahead of the one being read: their open, first read and sniff overlap. */
const READ_AHEAD = 16;

/**
 * The messages named by the command line, in order: a message file, every regular file below a
 * directory (sorted), each message of an mbox (`path#N`), or `-` for standard input. The next
 * few files are opened and sniffed while earlier ones are scanned (at most 16
 * open at once; a file's stream waits for its reader, so nothing is read ahead unbounded).
 */
export async function* inputs(
  paths: readonly string[],
  options: InputOptions = {},
): AsyncGenerator<InputItem> {
  const ahead: { gen: AsyncGenerator<InputItem>; first: Promise<IteratorResult<InputItem>> }[] = [];
  const drain = async function* (): AsyncGenerator<InputItem> {
    const head = ahead.shift();
    if (!head) return;
    let r = await head.first;
    while (!r.done) {
      yield r.value;
      r = await head.gen.next();
    }
  };
  for await (const gen of units(paths, options)) {
    const first = gen.next();
    // Errors surface when the unit's turn comes.
    first.catch(() => {});
    ahead.push({ gen, first });
    if (ahead.length >= READ_AHEAD) yield* drain();
  }
  while (ahead.length) yield* drain();
}
