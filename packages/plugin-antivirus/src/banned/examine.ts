import type { MimePart } from '@mef/core';
import { oneLine } from '../detection.js';
import { type ArchiveKind, archiveKind, KIND_BYTES } from './archives.js';
import { inspectArchive, inspectZip } from './inspect.js';
import { detectType, MAGIC_BYTES } from './magic.js';
import type { BannedSettings, BannedSymbol } from './options.js';
import { checkFileName, checkMimeType, checkRealType, nameAllowed, type RuleHit } from './rules.js';

/** The last bytes of an over-limit zip that are kept for its central directory. */
const TAIL_BYTES = 1024 * 1024;

/** One finding of the check, before the plugin groups them by symbol. */
export interface Hit {
  readonly symbol: BannedSymbol;
  readonly detail: string;
}

/**
 * Checks one part: its names and declared type, then its content (`read()` gives it): the
 * first bytes for the real type, all of it (bounded) when it is an archive, whose members get
 * the same checks.
 */
export async function examineAttachment(
  part: MimePart,
  read: () => AsyncIterable<Buffer> | Iterable<Buffer>,
  settings: BannedSettings,
  hits: Hit[],
): Promise<void> {
  const { rules, archives } = settings;
  const label = part.filename ?? `part ${part.partId}`;
  const where = (h: RuleHit): Hit => ({ symbol: h.symbol, detail: `${oneLine(label)}: ${h.detail}` });
  if (part.filename !== undefined) hits.push(...checkFileName(rules, part.filename).map(where));
  hits.push(...checkMimeType(rules, part.contentType, part.filename).map(where));
  if (part.filename !== undefined && nameAllowed(rules, part.filename)) {
    part.skip();
    return;
  }

  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  // The archive kind, known once KIND_BYTES are in (null: no archive, or archives are off).
  let kind: ArchiveKind | null | undefined;
  const limit = archives ? archives.maxBytes : MAGIC_BYTES;
  // A zip over the limit keeps its first bytes and a window of its last ones (where the
  // central directory is), so its names can still be listed. Other kinds over the limit are
  // not listed (ARCHIVE_UNCHECKED).
  let window: { head: Buffer; tail: Buffer[]; tailBytes: number } | undefined;
  let over = false;
  for await (const chunk of read()) {
    total += chunk.length;
    // Past what we need, the rest is read and dropped: another stage may want the part whole.
    if ((kind === null || over) && kept >= MAGIC_BYTES) continue;
    if (window) {
      window.tail.push(chunk);
      window.tailBytes += chunk.length;
      while (window.tail.length > 1 && window.tailBytes - (window.tail[0] as Buffer).length >= TAIL_BYTES) {
        window.tailBytes -= (window.tail.shift() as Buffer).length;
      }
      continue;
    }
    chunks.push(chunk);
    kept += chunk.length;
    if (kind === undefined && kept >= KIND_BYTES) {
      kind = archives ? (archiveKind(Buffer.concat(chunks).subarray(0, KIND_BYTES)) ?? null) : null;
    }
    if (kept > limit && kind) {
      const all = Buffer.concat(chunks);
      if (kind === 'zip') {
        const tail = all.subarray(Math.max(0, all.length - TAIL_BYTES));
        window = { head: all.subarray(0, MAGIC_BYTES), tail: [tail], tailBytes: tail.length };
        chunks.length = 0;
        kept = 0;
      } else {
        over = true;
        chunks.length = 0;
        chunks.push(all.subarray(0, MAGIC_BYTES));
        kept = MAGIC_BYTES;
      }
    }
  }
  const data = window ? window.head : Buffer.concat(chunks);
  const type = await detectType(data.subarray(0, MAGIC_BYTES));
  hits.push(...checkRealType(rules, type?.ext, part.filename).map(where));
  if (kind === undefined) kind = archives ? (archiveKind(data) ?? null) : null;
  if (!archives || !kind) return;
  if (over) {
    hits.push({
      symbol: 'ARCHIVE_UNCHECKED',
      detail: `${oneLine(label)}: ${kind} archive larger than ${archives.maxBytes} bytes`,
    });
    return;
  }
  const report = window
    ? await inspectZip(
        { head: window.head, tail: Buffer.concat(window.tail).subarray(-TAIL_BYTES), size: total },
        oneLine(label),
        archives.limits,
      )
    : await inspectArchive(data, oneLine(label), archives.limits);
  if (report.partial && report.unreadable.length > 0) {
    hits.push({
      symbol: 'ARCHIVE_UNCHECKED',
      detail: `${oneLine(label)}: larger than ${archives.maxBytes} bytes and its directory is not in the last ${TAIL_BYTES} bytes`,
    });
    return;
  }
  for (const m of report.members) {
    const memberHit = (h: RuleHit): Hit => ({
      symbol: h.symbol,
      detail: `${oneLine(m.path)}: ${h.detail}`,
    });
    hits.push(...checkFileName(rules, m.name).map(memberHit));
    hits.push(...checkRealType(rules, m.realType, m.name).map(memberHit));
  }
  for (const e of report.encrypted) hits.push({ symbol: 'ARCHIVE_ENCRYPTED', detail: oneLine(e) });
  for (const b of report.bomb) hits.push({ symbol: 'ARCHIVE_BOMB', detail: oneLine(b) });
  for (const u of report.unreadable) hits.push({ symbol: 'ARCHIVE_UNCHECKED', detail: oneLine(u) });
  if (report.partial) {
    // Names were checked; contents (real types, nested zips) were not.
    hits.push({
      symbol: 'ARCHIVE_UNCHECKED',
      detail: `${oneLine(label)}: larger than ${archives.maxBytes} bytes, names only`,
    });
  }
}
