/** One entry point for every archive kind: picks the walker by magic bytes, nests across kinds. */
import {
  type ArchiveKind,
  type ArchiveLimits,
  type ArchiveReport,
  archiveKind,
  DEFAULT_ARCHIVE_LIMITS,
  newWalk,
  type Walk,
} from './archives.js';
import { walk7z, walkRar } from './external.js';
import { walkGzip, walkTar } from './tar.js';
import { walkTnef } from './tnef.js';
import { type ArchiveWindow, walkZip } from './zip.js';

function open(kind: ArchiveKind, buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  switch (kind) {
    case 'zip':
      return walkZip(buffer, label, depth, walk);
    case 'gzip':
      return walkGzip(buffer, label, depth, walk);
    case 'tar':
      return walkTar(buffer, label, depth, walk);
    case '7z':
      return walk7z(buffer, label, depth, walk);
    case 'rar':
      return walkRar(buffer, label, depth, walk);
    case 'tnef':
      return walkTnef(buffer, label, depth, walk);
  }
}

/**
 * Lists an archive of any kind held in `buffer` (zip, gzip, tar, 7z, rar or TNEF) and the
 * archives inside it, within the limits. Content that is no archive gives an `unreadable` entry.
 */
export async function inspectArchive(
  buffer: Buffer,
  label: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ArchiveReport> {
  const walk = newWalk(limits, false, open);
  const kind = archiveKind(buffer);
  if (!kind) walk.report.unreadable.push(`${label}: not an archive`);
  else await open(kind, buffer, label, 1, walk);
  return walk.report;
}

/**
 * Lists a zip held in `buffer` (and the archives inside it, within the limits), or, for a zip
 * too large to keep, its names from a window of its first and last bytes.
 */
export async function inspectZip(
  buffer: Buffer | ArchiveWindow,
  label: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ArchiveReport> {
  const walk = newWalk(limits, !Buffer.isBuffer(buffer), open);
  await walkZip(buffer, label, 1, walk);
  return walk.report;
}
