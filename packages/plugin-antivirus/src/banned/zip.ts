/**
 * Lists zip archives without extracting them to disk: the central directory is read with
 * yauzl from a bounded buffer; members are inflated only as far as their magic bytes, and
 * nested zips only up to a size and a depth limit. Declared sizes bound the work before any
 * byte is inflated, and inflation is counted so that a lying header cannot blow it up.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { detectType, isZip, MAGIC_BYTES } from './magic.js';

/** Limits for archive inspection. */
export interface ArchiveLimits {
  /** Deepest nesting of zips inside zips that is opened (the attachment itself is depth 1). Default 3. */
  readonly maxDepth: number;
  /** Most members (over all nesting levels) before the archive is called a bomb. Default 1000. */
  readonly maxMembers: number;
  /** Highest declared uncompressed/compressed ratio of one member. Default 200. */
  readonly maxRatio: number;
  /** Most declared uncompressed bytes over all members. Default 1 GiB. */
  readonly maxUncompressed: number;
  /** Largest nested zip that is inflated into memory to be listed. Default 10 MiB. */
  readonly maxNestedBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxDepth: 3,
  maxMembers: 1000,
  maxRatio: 200,
  maxUncompressed: 1024 * 1024 * 1024,
  maxNestedBytes: 10 * 1024 * 1024,
});

/** One member as the rules see it. */
export interface ArchiveMember {
  /** Path inside the archive; nested archives are joined with `!/` (`outer.zip!/inner.zip!/x.exe`). */
  readonly path: string;
  readonly name: string;
  readonly encrypted: boolean;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  /** Real type from the member's first bytes, when it could be read. */
  readonly realType: string | undefined;
  readonly depth: number;
}

/** What the inspection found. */
export interface ArchiveReport {
  readonly members: ArchiveMember[];
  /** Encrypted members (their names are still checked). */
  readonly encrypted: string[];
  /** Why the archive is a bomb, empty when it is not. */
  readonly bomb: string[];
  /** The archive (or a nested one) could not be read as zip. */
  readonly unreadable: string[];
  /** Listed from a window (head and tail) of a large archive: names only, member contents unread. */
  readonly partial: boolean;
}

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

/**
 * Lists a zip held in `buffer` (and the zips inside it, within the limits), or, for a zip too
 * large to keep, its names from a window of its first and last bytes.
 */
export async function inspectZip(
  buffer: Buffer | ArchiveWindow,
  label: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ArchiveReport> {
  const report: ArchiveReport = {
    members: [],
    encrypted: [],
    bomb: [],
    unreadable: [],
    partial: !Buffer.isBuffer(buffer),
  };
  const state = { members: 0, uncompressed: 0, stopped: false };
  await walk(buffer, label, 1, limits, report, state);
  return report;
}

async function walk(
  buffer: Buffer | ArchiveWindow,
  label: string,
  depth: number,
  limits: ArchiveLimits,
  report: ArchiveReport,
  state: { members: number; uncompressed: number; stopped: boolean },
): Promise<void> {
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
      if (state.stopped) return;
      let entry: yauzl.Entry | undefined;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        report.unreadable.push(`${label}: ${(err as Error).message}`);
        return;
      }
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      state.members++;
      state.uncompressed += entry.uncompressedSize;
      const path = `${label}!/${entry.fileName}`;
      if (state.members > limits.maxMembers) {
        report.bomb.push(`more than ${limits.maxMembers} members`);
        state.stopped = true;
        return;
      }
      if (state.uncompressed > limits.maxUncompressed) {
        report.bomb.push(`more than ${limits.maxUncompressed} bytes uncompressed`);
        state.stopped = true;
        return;
      }
      const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
      const encrypted = entry.isEncrypted();
      const tooCompressed = ratio > limits.maxRatio && entry.uncompressedSize > 1024 * 1024;
      if (tooCompressed) report.bomb.push(`${path}: compression ratio ${Math.round(ratio)}`);
      if (encrypted) report.encrypted.push(path);
      let realType: string | undefined;
      let head: Buffer | undefined;
      let complete = false;
      if (!encrypted && !tooCompressed && entry.canDecodeFileData()) {
        try {
          const r = await readHead(zip, entry, MAGIC_BYTES);
          head = r.data;
          complete = r.complete;
          realType = (await detectType(head))?.ext;
          if (
            isZip(head) &&
            !complete &&
            depth < limits.maxDepth &&
            entry.uncompressedSize <= limits.maxNestedBytes
          ) {
            // Only a nested zip is inflated whole, and only up to maxNestedBytes.
            const whole = await readHead(zip, entry, limits.maxNestedBytes);
            head = whole.data;
            complete = whole.complete;
          }
        } catch (err) {
          // In a window listing the member's bytes were not kept: its name is still checked.
          if (!(err instanceof OutsideWindow)) report.unreadable.push(`${path}: ${(err as Error).message}`);
        }
      }
      report.members.push({
        path,
        name: entry.fileName,
        encrypted,
        uncompressedSize: entry.uncompressedSize,
        compressedSize: entry.compressedSize,
        realType,
        depth,
      });
      if (head && isZip(head)) {
        if (depth >= limits.maxDepth) {
          report.bomb.push(`${path}: zip nested deeper than ${limits.maxDepth}`);
        } else if (!complete) {
          report.unreadable.push(
            `${path}: nested zip larger than ${limits.maxNestedBytes} bytes, not listed`,
          );
        } else {
          await walk(head, path, depth + 1, limits, report, state);
        }
      }
    }
  } finally {
    zip.close();
  }
}
