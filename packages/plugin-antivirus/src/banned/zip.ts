/**
 * Lists zip archives without extracting them to disk: the central directory is read with
 * yauzl from a bounded buffer; members are inflated only as far as their magic bytes, and
 * nested zips only up to a size and a depth limit. Declared sizes bound the work before any
 * byte is inflated, and inflation is counted so that a lying header cannot blow it up.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { visitMember, type Walk } from './archives.js';

/** The first and last bytes of an archive too large to keep whole. */
export interface ArchiveWindow {
  readonly head: Buffer;
  readonly tail: Buffer;
  /** Size of the whole archive. */
  readonly size: number;
}

class OutsideWindow extends Error {}

/**
 * A yauzl reader over the kept head and tail of a large zip: the end record and central
 * directory live at the end, so names, sizes and flags can be listed without the middle.
 * yauzl looks for the end record in the last 65,557 bytes: keep at least that much tail.
 */
class WindowReader extends yauzl.RandomAccessReader {
  constructor(private readonly win: ArchiveWindow) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const { head, tail, size } = this.win;
    const tailStart = size - tail.length;
    if (end <= head.length) return Readable.from([head.subarray(start, end)]);
    if (start >= tailStart) return Readable.from([tail.subarray(start - tailStart, end - tailStart)]);
    if (head.length >= tailStart) {
      // Head and tail meet: the range is kept, across the two.
      return Readable.from([
        Buffer.concat([head.subarray(start, tailStart), tail.subarray(0, end - tailStart)]),
      ]);
    }
    const r = new Readable({ read() {} });
    process.nextTick(() => r.destroy(new OutsideWindow(`bytes ${start}-${end} were not kept`)));
    return r;
  }
}

const fromBuffer = promisify(yauzl.fromBuffer) as (
  buffer: Buffer,
  options: yauzl.Options,
) => Promise<yauzl.ZipFile>;
const fromReader = promisify(yauzl.fromRandomAccessReader) as (
  reader: yauzl.RandomAccessReader,
  size: number,
  options: yauzl.Options,
) => Promise<yauzl.ZipFile>;

function openStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Reads up to `max` inflated bytes of a member, then stops inflating. */
async function readHead(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  max: number,
): Promise<{ data: Buffer; complete: boolean }> {
  const stream = (await openStream(zip, entry)) as NodeJS.ReadableStream & { destroy(): void };
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (complete: boolean) => {
      if (done) return;
      done = true;
      stream.removeAllListeners('data');
      stream.removeAllListeners('end');
      stream.on('error', () => {});
      if (!complete) stream.destroy();
      resolve({ data: Buffer.concat(chunks, Math.min(size, max)).subarray(0, max), complete });
    };
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > max) finish(false);
    });
    stream.on('end', () => finish(true));
    stream.on('error', (err: Error) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
  });
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry) => {
      cleanup();
      resolve(e);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** Lists one zip level; members go through the shared walker (limits, real types, nesting). */
export async function walkZip(
  buffer: Buffer | ArchiveWindow,
  label: string,
  depth: number,
  walk: Walk,
): Promise<void> {
  const { report } = walk;
  let zip: yauzl.ZipFile;
  try {
    const options = {
      lazyEntries: true,
      decodeStrings: true,
      strictFileNames: false,
      validateEntrySizes: true,
    };
    zip = Buffer.isBuffer(buffer)
      ? await fromBuffer(buffer, options)
      : await fromReader(new WindowReader(buffer), buffer.size, { ...options, autoClose: false });
  } catch (err) {
    report.unreadable.push(`${label}: ${(err as Error).message}`);
    return;
  }
  try {
    for (;;) {
      if (walk.state.stopped) return;
      let entry: yauzl.Entry | undefined;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        report.unreadable.push(`${label}: ${(err as Error).message}`);
        return;
      }
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      const e = entry;
      const encrypted = e.isEncrypted();
      const read =
        !encrypted && e.canDecodeFileData()
          ? async (max: number) => {
              try {
                return await readHead(zip, e, max);
              } catch (err) {
                // In a window listing the member's bytes were not kept: its name is still checked.
                if (err instanceof OutsideWindow) return undefined;
                throw err;
              }
            }
          : undefined;
      const go = await visitMember(
        walk,
        label,
        depth,
        {
          name: e.fileName,
          encrypted,
          uncompressedSize: e.uncompressedSize,
          compressedSize: Math.max(1, e.compressedSize),
        },
        read,
      );
      if (!go) return;
    }
  } finally {
    zip.close();
  }
}
