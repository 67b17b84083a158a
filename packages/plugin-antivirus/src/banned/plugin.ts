import type { MessageContext, MimePart, Plugin } from '@mef/core';
import {
  checkBoolean,
  checkEnum,
  checkNumber,
  checkPluginName,
  checkStrings,
  definePlugin,
  invalidOption,
  type MimeReadingsReport,
  mimeReadings,
} from '@mef/core';
import { checkScores, DETECTION_ACTIONS, type DetectionAction, enforce, oneLine } from '../detection.js';
import {
  type ArchiveKind,
  type ArchiveLimits,
  archiveKind,
  DEFAULT_ARCHIVE_LIMITS,
  KIND_BYTES,
} from './archives.js';
import { inspectArchive, inspectZip } from './inspect.js';
import { detectType, MAGIC_BYTES } from './magic.js';
import {
  type AllowRules,
  checkFileName,
  checkMimeType,
  checkRealType,
  compileRules,
  nameAllowed,
  type RuleHit,
  type RuleSet,
} from './rules.js';

/** The last bytes of an over-limit zip that are kept for its central directory. */
const TAIL_BYTES = 1024 * 1024;

/** The symbols of the banned-attachment plugin, with their default scores. */
export const bannedSymbols = {
  /** A file name with a banned extension (`.exe`, `.scr`, `.js`...). */
  BANNED_EXTENSION: 10,
  /** A double extension (`invoice.pdf.exe`), a run of blanks before the extension, or a bidi trick. */
  BANNED_DOUBLE_EXTENSION: 15,
  /** A banned declared MIME type (`application/x-msdownload`...). */
  BANNED_MIME_TYPE: 10,
  /** Content whose magic bytes show a banned type (a `.txt` that is a Windows executable). */
  BANNED_REAL_TYPE: 15,
  /** An archive with encrypted members (their content cannot be checked). */
  ARCHIVE_ENCRYPTED: 3,
  /** An archive over the limits: compression ratio, member count, nesting depth or total size. */
  ARCHIVE_BOMB: 15,
  /** An archive that could not be listed (broken, or larger than `archives.maxBytes`). */
  ARCHIVE_UNCHECKED: 0.5,
  /**
   * The message can be read more than one way (two boundaries, two Content-Type fields, a
   * file name that differs between headers...); the options name the kinds. The parts of every
   * reading were checked: this scores the trick itself.
   */
  MIME_AMBIGUOUS: 3,
} as const;

/** A symbol of the banned-attachment plugin. */
export type BannedSymbol = keyof typeof bannedSymbols;

/** Options of {@link bannedAttachments}. */
export interface BannedAttachmentsOptions {
  /** Banned extensions, without the dot. Default: {@link DEFAULT_BANNED_EXTENSIONS}. */
  extensions?: readonly string[];
  /** Extensions that make `name.<decoy>.<banned>` a double extension. Default: document and media types. */
  decoyExtensions?: readonly string[];
  /** Banned declared MIME types (exact or `type/*`). */
  mimeTypes?: readonly string[];
  /** Banned real types (file-type names: `exe`, `elf`, `macho`, `lnk`...). */
  realTypes?: readonly string[];
  /** A run of at least this many blanks before an executable extension is a trick. Default 5. */
  spaceRun?: number;
  /** Allow rules that override the bans. */
  allow?: AllowRules;
  /** Archive inspection (zip, gzip, tar, 7z, rar, TNEF): `false` to switch it off, or limits. */
  archives?:
    | false
    | (Partial<ArchiveLimits> & {
        /** Largest archive buffered to be listed. Default 25 MiB. */ maxBytes?: number;
      });
  /** What a banned attachment does. Default `reject` (554 5.7.1). */
  action?: DetectionAction;
  /** What an encrypted archive does. Default `tag`. */
  encryptedAction?: DetectionAction;
  /** What an archive bomb does. Default `reject`. */
  bombAction?: DetectionAction;
  /** Symbol scores over the defaults of {@link bannedSymbols}. */
  scores?: Partial<Record<BannedSymbol, number>>;
  /** Do not check mail from authenticated users. Default false. */
  skipAuthenticated?: boolean;
  /** Do not check outbound mail. Default false. */
  skipOutbound?: boolean;
  /** Plugin name. Default `banned-attachments`. */
  name?: string;
}

interface Hit {
  readonly symbol: BannedSymbol;
  readonly detail: string;
}

function checkRegexps(name: string, value: unknown): readonly RegExp[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => v instanceof RegExp))
    throw invalidOption(name, value, 'an array of RegExp');
  return value as RegExp[];
}

/**
 * The banned-attachment policy that mail gateways (amavisd-new, MailScanner) are known for:
 * rules by file name, declared MIME type and real type (magic bytes), applied to attachments
 * and to the members of archives (zip, gzip, tar, 7z, rar, TNEF), with limits against archive bombs.
 */
export function bannedAttachments(options: BannedAttachmentsOptions = {}): Plugin {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', options, 'an object');
  const allowIn = options.allow;
  if (allowIn !== undefined && (typeof allowIn !== 'object' || allowIn === null)) {
    throw invalidOption('allow', allowIn, 'an object of allow rules');
  }
  const allow: AllowRules = {
    ...(checkStrings('allow.extensions', allowIn?.extensions)
      ? { extensions: allowIn?.extensions as string[] }
      : {}),
    ...(checkRegexps('allow.fileNames', allowIn?.fileNames)
      ? { fileNames: allowIn?.fileNames as RegExp[] }
      : {}),
    ...(checkStrings('allow.mimeTypes', allowIn?.mimeTypes)
      ? { mimeTypes: allowIn?.mimeTypes as string[] }
      : {}),
    ...(checkStrings('allow.realTypes', allowIn?.realTypes)
      ? { realTypes: allowIn?.realTypes as string[] }
      : {}),
  };
  const extensions = checkStrings('extensions', options.extensions);
  const decoys = checkStrings('decoyExtensions', options.decoyExtensions);
  const mimeTypes = checkStrings('mimeTypes', options.mimeTypes);
  const realTypes = checkStrings('realTypes', options.realTypes);
  const rules: RuleSet = compileRules({
    ...(extensions ? { extensions } : {}),
    ...(decoys ? { decoys } : {}),
    ...(mimeTypes ? { mimeTypes } : {}),
    ...(realTypes ? { realTypes } : {}),
    spaceRun: checkNumber('spaceRun', options.spaceRun, { min: 1, integer: true }) ?? 5,
    allow,
  });
  const archivesIn = options.archives;
  if (
    archivesIn !== undefined &&
    archivesIn !== false &&
    (typeof archivesIn !== 'object' || archivesIn === null)
  ) {
    throw invalidOption('archives', archivesIn, 'false or an object of archive limits');
  }
  const archives =
    archivesIn === false
      ? undefined
      : {
          maxBytes:
            checkNumber('archives.maxBytes', archivesIn?.maxBytes, { min: 1, integer: true }) ??
            25 * 1024 * 1024,
          limits: {
            maxDepth:
              checkNumber('archives.maxDepth', archivesIn?.maxDepth, { min: 1, integer: true }) ??
              DEFAULT_ARCHIVE_LIMITS.maxDepth,
            maxMembers:
              checkNumber('archives.maxMembers', archivesIn?.maxMembers, { min: 1, integer: true }) ??
              DEFAULT_ARCHIVE_LIMITS.maxMembers,
            maxRatio:
              checkNumber('archives.maxRatio', archivesIn?.maxRatio, { min: 1 }) ??
              DEFAULT_ARCHIVE_LIMITS.maxRatio,
            maxUncompressed:
              checkNumber('archives.maxUncompressed', archivesIn?.maxUncompressed, {
                min: 1,
                integer: true,
              }) ?? DEFAULT_ARCHIVE_LIMITS.maxUncompressed,
            maxNestedBytes:
              checkNumber('archives.maxNestedBytes', archivesIn?.maxNestedBytes, { min: 1, integer: true }) ??
              DEFAULT_ARCHIVE_LIMITS.maxNestedBytes,
          } satisfies ArchiveLimits,
        };
  const action = checkEnum('action', options.action, DETECTION_ACTIONS) ?? 'reject';
  const encryptedAction = checkEnum('encryptedAction', options.encryptedAction, DETECTION_ACTIONS) ?? 'tag';
  const bombAction = checkEnum('bombAction', options.bombAction, DETECTION_ACTIONS) ?? 'reject';
  const scores = checkScores('scores', options.scores, bannedSymbols);
  const skipAuthenticated = checkBoolean('skipAuthenticated', options.skipAuthenticated) ?? false;
  const skipOutbound = checkBoolean('skipOutbound', options.skipOutbound) ?? false;
  const name = checkPluginName(options.name, 'banned-attachments');

  /** Reads the part: its first bytes for the real type, all of it (bounded) when it is a zip. */
  async function examine(part: MimePart, hits: Hit[]): Promise<void> {
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
    for await (const chunk of part.content as AsyncIterable<Buffer>) {
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

  function message(ctx: MessageContext): Promise<void> | undefined {
    const { tx } = ctx;
    if ((skipAuthenticated && tx.user !== undefined) || (skipOutbound && tx.direction === 'outbound'))
      return undefined;
    const hits: Hit[] = [];
    const readings = mimeReadings(ctx.message);
    ctx.message.parts({}, (part) => {
      // Inline text without a name carries no attachment.
      if (
        part.filename === undefined &&
        /^text\/(plain|html)$/.test(part.contentType) &&
        part.disposition !== 'attachment'
      ) {
        part.skip();
        return;
      }
      return examine(part, hits);
    });
    // ended() resolves once every part handler above (other readings' parts included) has settled.
    return ctx.message.ended().then(async () => decide(ctx, hits, await readings));
  }

  function decide(ctx: MessageContext, hits: Hit[], readings: MimeReadingsReport): void {
    if (readings.kinds.length) {
      ctx.findings.symbol('MIME_AMBIGUOUS', scores.MIME_AMBIGUOUS, {
        group: 'attachments',
        options: [...readings.kinds],
        description: 'the message can be read more than one way',
      });
    }
    const by = new Map<BannedSymbol, string[]>();
    for (const h of hits) {
      const list = by.get(h.symbol) ?? [];
      if (!list.includes(h.detail)) list.push(h.detail);
      by.set(h.symbol, list);
    }
    for (const [symbol, details] of by) {
      ctx.findings.symbol(symbol, scores[symbol], { group: 'attachments', options: details.slice(0, 20) });
    }
    const banned = (
      ['BANNED_DOUBLE_EXTENSION', 'BANNED_REAL_TYPE', 'BANNED_EXTENSION', 'BANNED_MIME_TYPE'] as const
    ).flatMap((s) => by.get(s) ?? []);
    const bombs = by.get('ARCHIVE_BOMB') ?? [];
    const encrypted = by.get('ARCHIVE_ENCRYPTED') ?? [];
    if (banned.length) enforce(ctx, action, `Banned attachment: ${banned[0]}`);
    if (bombs.length) enforce(ctx, bombAction, `Archive over the limits: ${bombs[0]}`);
    if (encrypted.length) enforce(ctx, encryptedAction, `Encrypted archive: ${encrypted[0]}`);
  }

  return definePlugin({
    name,
    core: '^0.1.0',
    // A broken archive is a finding, not a failure: only a bug ends up here.
    onError: 'tempfail',
    message,
  });
}
