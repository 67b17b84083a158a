/**
 * Opens every archive kind the banned-attachment check knows (zip, gzip, tar, 7z, rar, TNEF)
 * under one set of limits: members are counted over all nesting levels, declared sizes and
 * ratios are checked before anything is inflated, and a nested archive is opened only when it
 * is small enough to hold and not deeper than the depth limit.
 */
import { detectType, MAGIC_BYTES } from './magic.js';

/** Limits for archive inspection. */
export interface ArchiveLimits {
  /** Deepest nesting of archives inside archives that is opened (the attachment itself is depth 1). Default 3. */
  readonly maxDepth: number;
  /** Most members (over all nesting levels) before the archive is called a bomb. Default 1000. */
  readonly maxMembers: number;
  /** Highest declared uncompressed/compressed ratio of one member. Default 200. */
  readonly maxRatio: number;
  /** Most declared uncompressed bytes over all members. Default 1 GiB. */
  readonly maxUncompressed: number;
  /** Largest nested archive (or 7z/rar/gzip member) that is inflated into memory. Default 10 MiB. */
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
  /** Path inside the archive; nested archives are joined with `!/` (`outer.zip!/inner.7z!/x.exe`). */
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
  /** The archive (or a nested one) could not be read. */
  readonly unreadable: string[];
  /** Listed from a window (head and tail) of a large archive: names only, member contents unread. */
  readonly partial: boolean;
}

/** The archive kinds that are opened. */
export type ArchiveKind = 'zip' | 'gzip' | 'tar' | '7z' | 'rar' | 'tnef';

/** How many leading bytes {@link archiveKind} needs (tar's magic sits at offset 257). */
export const KIND_BYTES = 262;

/** The archive kind of content from its first bytes, or undefined. */
export function archiveKind(head: Uint8Array): ArchiveKind | undefined {
  const b = (i: number) => head[i];
  if (head.length < 4) return undefined;
  if (
    b(0) === 0x50 &&
    b(1) === 0x4b &&
    [0x03, 0x05, 0x07].includes(b(2) as number) &&
    b(3) === (b(2) as number) + 1
  )
    return 'zip';
  if (b(0) === 0x1f && b(1) === 0x8b && b(2) === 0x08) return 'gzip';
  if (b(0) === 0x78 && b(1) === 0x9f && b(2) === 0x3e && b(3) === 0x22) return 'tnef';
  if (
    head.length >= 6 &&
    b(0) === 0x37 &&
    b(1) === 0x7a &&
    b(2) === 0xbc &&
    b(3) === 0xaf &&
    b(4) === 0x27 &&
    b(5) === 0x1c
  )
    return '7z';
  if (
    head.length >= 6 &&
    b(0) === 0x52 &&
    b(1) === 0x61 &&
    b(2) === 0x72 &&
    b(3) === 0x21 &&
    b(4) === 0x1a &&
    b(5) === 0x07
  )
    return 'rar';
  if (head.length >= KIND_BYTES && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar')
    return 'tar';
  return undefined;
}

/** The state shared by one inspection over all nesting levels. */
export interface Walk {
  readonly limits: ArchiveLimits;
  readonly report: ArchiveReport;
  readonly state: { members: number; uncompressed: number; stopped: boolean };
  /** Opens a nested archive. */
  readonly open: Opener;
}

/** A member's listing entry, before its content is read. */
export interface EntryInfo {
  readonly name: string;
  readonly encrypted: boolean;
  readonly uncompressedSize: number;
  /** 0 when the format does not say (then no ratio check). */
  readonly compressedSize: number;
}

/** Reads up to `max` bytes of a member; `undefined` when its bytes are not at hand (names only). */
export type ReadMember = (max: number) => Promise<{ data: Buffer; complete: boolean } | undefined>;

/** Opens one archive of a known kind at a depth (the walker of each format). */
export type Opener = (
  kind: ArchiveKind,
  buffer: Buffer,
  label: string,
  depth: number,
  walk: Walk,
) => Promise<void>;

/** A fresh report and walk state. */
export function newWalk(limits: ArchiveLimits, partial: boolean, open: Opener): Walk {
  return {
    limits,
    open,
    report: { members: [], encrypted: [], bomb: [], unreadable: [], partial },
    state: { members: 0, uncompressed: 0, stopped: false },
  };
}

/**
 * Counts one member against the limits, reads its first bytes for the real type, and opens it
 * when it is itself an archive. Returns false once the walk must stop (a bomb).
 */
export async function visitMember(
  walk: Walk,
  label: string,
  depth: number,
  info: EntryInfo,
  read: ReadMember | undefined,
): Promise<boolean> {
  const { limits, report, state } = walk;
  if (state.stopped) return false;
  state.members++;
  state.uncompressed += info.uncompressedSize;
  const path = `${label}!/${info.name}`;
  if (state.members > limits.maxMembers) {
    report.bomb.push(`more than ${limits.maxMembers} members`);
    state.stopped = true;
    return false;
  }
  if (state.uncompressed > limits.maxUncompressed) {
    report.bomb.push(`more than ${limits.maxUncompressed} bytes uncompressed`);
    state.stopped = true;
    return false;
  }
  const ratio = info.compressedSize > 0 ? info.uncompressedSize / info.compressedSize : 0;
  const tooCompressed = ratio > limits.maxRatio && info.uncompressedSize > 1024 * 1024;
  if (tooCompressed) report.bomb.push(`${path}: compression ratio ${Math.round(ratio)}`);
  if (info.encrypted) report.encrypted.push(path);
  let realType: string | undefined;
  let head: Buffer | undefined;
  let complete = false;
  if (!info.encrypted && !tooCompressed && read) {
    try {
      const r = await read(MAGIC_BYTES);
      if (r) {
        head = r.data;
        complete = r.complete;
        realType = (await detectType(head))?.ext;
        if (
          archiveKind(head) &&
          !complete &&
          depth < limits.maxDepth &&
          info.uncompressedSize <= limits.maxNestedBytes
        ) {
          // Only a nested archive is read whole, and only up to maxNestedBytes.
          const whole = await read(limits.maxNestedBytes);
          if (whole) {
            head = whole.data;
            complete = whole.complete;
          }
        }
      }
    } catch (err) {
      report.unreadable.push(`${path}: ${(err as Error).message}`);
    }
  }
  report.members.push({
    path,
    name: info.name,
    encrypted: info.encrypted,
    uncompressedSize: info.uncompressedSize,
    compressedSize: info.compressedSize,
    realType,
    depth,
  });
  const kind = head ? archiveKind(head) : undefined;
  if (head && kind) {
    if (depth >= limits.maxDepth) {
      report.bomb.push(`${path}: archive nested deeper than ${limits.maxDepth}`);
    } else if (!complete) {
      report.unreadable.push(
        `${path}: nested archive larger than ${limits.maxNestedBytes} bytes, not listed`,
      );
    } else {
      await walk.open(kind, head, path, depth + 1, walk);
    }
  }
  return !state.stopped;
}

/** A reader over a member already in memory. */
export function bufferReader(data: Buffer): ReadMember {
  return async (max) => ({ data: data.subarray(0, max), complete: data.length <= max });
}
