import {
  checkBoolean,
  checkEnum,
  checkNumber,
  checkPluginName,
  checkStrings,
  invalidOption,
} from '@mef/core';
import { checkScores, DETECTION_ACTIONS, type DetectionAction } from '../detection.js';
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './archives.js';
import { type AllowRules, compileRules, type RuleSet } from './rules.js';

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

/** The options checked, with their defaults filled in. */
export interface BannedSettings {
  readonly name: string;
  readonly rules: RuleSet;
  /** Archive inspection, or undefined when it is switched off. */
  readonly archives: { readonly maxBytes: number; readonly limits: ArchiveLimits } | undefined;
  readonly action: DetectionAction;
  readonly encryptedAction: DetectionAction;
  readonly bombAction: DetectionAction;
  readonly scores: Readonly<Record<BannedSymbol, number>>;
  readonly skipAuthenticated: boolean;
  readonly skipOutbound: boolean;
}

function checkRegexps(name: string, value: unknown): readonly RegExp[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => v instanceof RegExp))
    throw invalidOption(name, value, 'an array of RegExp');
  return value as RegExp[];
}

/** Checks the options of `bannedAttachments()`; a bad one throws a TypeError naming it. */
export function bannedSettings(options: BannedAttachmentsOptions): BannedSettings {
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
  return {
    name: checkPluginName(options.name, 'banned-attachments'),
    rules,
    archives,
    action,
    encryptedAction,
    bombAction,
    scores,
    skipAuthenticated,
    skipOutbound,
  };
}
