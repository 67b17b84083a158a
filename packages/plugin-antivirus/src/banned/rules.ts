/**
 * The attachment rules: what is banned by name, declared MIME type and real type, what is
 * allowed in spite of that, and the archive limits. Pure functions; the plugin feeds them.
 */

/** Extensions that run code on Windows (and a few that mount or link to code). */
export const DEFAULT_BANNED_EXTENSIONS: readonly string[] = Object.freeze([
  'ace',
  'ade',
  'adp',
  'app',
  'appx',
  'appxbundle',
  'application',
  'bas',
  'bat',
  'cab',
  'chm',
  'cmd',
  'com',
  'cpl',
  'crt',
  'dll',
  'exe',
  'gadget',
  'hlp',
  'hta',
  'img',
  'inf',
  'ins',
  'iso',
  'isp',
  'jar',
  'js',
  'jse',
  'lnk',
  'mde',
  'msc',
  'msi',
  'msix',
  'msp',
  'mst',
  'one',
  'pcd',
  'pif',
  'ps1',
  'psm1',
  'reg',
  'scf',
  'scr',
  'sct',
  'shb',
  'shs',
  'sys',
  'url',
  'vb',
  'vbe',
  'vbs',
  'vhd',
  'vhdx',
  'vxd',
  'wsc',
  'wsf',
  'wsh',
  'xll',
]);

/** Extensions that a double-extension trick puts in front of an executable one to look harmless. */
export const DEFAULT_DECOY_EXTENSIONS: readonly string[] = Object.freeze([
  'avi',
  'bmp',
  'csv',
  'doc',
  'docx',
  'gif',
  'htm',
  'html',
  'jpeg',
  'jpg',
  'mov',
  'mp3',
  'mp4',
  'mpeg',
  'mpg',
  'odp',
  'ods',
  'odt',
  'pdf',
  'png',
  'ppt',
  'pptx',
  'rar',
  'rtf',
  'tif',
  'tiff',
  'txt',
  'wav',
  'xls',
  'xlsx',
  'xml',
  'zip',
  '7z',
]);

/** Declared MIME types of executables. */
export const DEFAULT_BANNED_MIME_TYPES: readonly string[] = Object.freeze([
  'application/x-msdownload',
  'application/x-msdos-program',
  'application/x-dosexec',
  'application/x-executable',
  'application/x-ms-dos-executable',
  'application/vnd.microsoft.portable-executable',
  'application/x-ms-shortcut',
  'application/hta',
  'application/x-msi',
  'application/x-ms-installer',
  'application/x-bat',
  'application/x-sh',
  'application/x-vbscript',
  'text/vbscript',
]);

/** Real types (file-type extension names, from magic bytes) that are banned whatever the name says. */
export const DEFAULT_BANNED_REAL_TYPES: readonly string[] = Object.freeze([
  'exe',
  'elf',
  'macho',
  'lnk',
  'chm',
  'reg',
]);

/** Allow rules: each overrides the ban of its own kind; a file name match overrides every ban. */
export interface AllowRules {
  /** Extensions (without the dot) allowed even when banned. */
  readonly extensions?: readonly string[];
  /** File names (of attachments and archive members) that are never banned. */
  readonly fileNames?: readonly RegExp[];
  /** Declared MIME types allowed even when banned (exact, or with `*` wildcards such as `type/*`). */
  readonly mimeTypes?: readonly string[];
  /** Real types allowed even when banned. */
  readonly realTypes?: readonly string[];
}

/** The compiled rules. */
export interface RuleSet {
  readonly extensions: ReadonlySet<string>;
  readonly decoys: ReadonlySet<string>;
  readonly mimeTypes: readonly string[];
  readonly realTypes: ReadonlySet<string>;
  /** A run of at least this many blanks before an extension is a trick. */
  readonly spaceRun: number;
  readonly allow: {
    readonly extensions: ReadonlySet<string>;
    readonly fileNames: readonly RegExp[];
    readonly mimeTypes: readonly string[];
    readonly realTypes: ReadonlySet<string>;
  };
}

/** A rule that matched. */
export interface RuleHit {
  readonly symbol: 'BANNED_EXTENSION' | 'BANNED_DOUBLE_EXTENSION' | 'BANNED_MIME_TYPE' | 'BANNED_REAL_TYPE';
  /** What matched, for the symbol options and the reply. */
  readonly detail: string;
}

const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase().replace(/^\./, ''));

export function compileRules(input: {
  extensions?: readonly string[];
  decoys?: readonly string[];
  mimeTypes?: readonly string[];
  realTypes?: readonly string[];
  spaceRun?: number;
  allow?: AllowRules;
}): RuleSet {
  return {
    extensions: new Set(lower(input.extensions ?? DEFAULT_BANNED_EXTENSIONS)),
    decoys: new Set(lower(input.decoys ?? DEFAULT_DECOY_EXTENSIONS)),
    mimeTypes: (input.mimeTypes ?? DEFAULT_BANNED_MIME_TYPES).map((m) => m.toLowerCase()),
    realTypes: new Set(lower(input.realTypes ?? DEFAULT_BANNED_REAL_TYPES)),
    spaceRun: input.spaceRun ?? 5,
    allow: {
      extensions: new Set(lower(input.allow?.extensions ?? [])),
      fileNames: input.allow?.fileNames ?? [],
      mimeTypes: (input.allow?.mimeTypes ?? []).map((m) => m.toLowerCase()),
      realTypes: new Set(lower(input.allow?.realTypes ?? [])),
    },
  };
}

/** Blanks that a mail client shows as space, including the Unicode ones used in tricks. */
const BLANK = '[\\s\\u00a0\\u1680\\u2000-\\u200b\\u202f\\u205f\\u3000\\u2800_]';
/** Bidirectional controls that make `exe.pdf` show for `fdp.exe`. */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;

/** The last path segment of an archive member or a file name with folders. */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}

/**
 * The extensions of a file name as Windows sees them: trailing dots and blanks are dropped
 * (`evil.exe. ` runs as `evil.exe`), then the last one or two dot-separated suffixes.
 */
export function extensionsOf(fileName: string): {
  last: string | undefined;
  inner: string | undefined;
  stem: string;
} {
  const name = baseName(fileName)
    .replace(/\0.*$/s, '')
    .replace(new RegExp(`[.${BLANK.slice(1, -1)}]+$`, 'u'), '');
  const m = /^(.*)\.([^.]+)$/s.exec(name);
  if (!m) return { last: undefined, inner: undefined, stem: name };
  const stem = m[1] ?? '';
  const last = (m[2] ?? '').toLowerCase().replace(new RegExp(`^${BLANK}+|${BLANK}+$`, 'gu'), '');
  const inner = /\.([^.]+)$/s.exec(stem)?.[1];
  return {
    last,
    inner: inner?.toLowerCase().replace(new RegExp(`^${BLANK}+|${BLANK}+$`, 'gu'), ''),
    stem,
  };
}

function mimeMatches(patterns: readonly string[], type: string): string | undefined {
  const t = type.toLowerCase();
  return patterns.find((p) =>
    p.includes('*')
      ? new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(t)
      : t === p,
  );
}

/** True when an allow rule for file names covers this name. */
export function nameAllowed(rules: RuleSet, fileName: string): boolean {
  return rules.allow.fileNames.some((re) => re.test(fileName) || re.test(baseName(fileName)));
}

/** Rules by file name: banned extensions, double extensions, blank runs and bidi tricks. */
export function checkFileName(rules: RuleSet, fileName: string): RuleHit[] {
  if (nameAllowed(rules, fileName)) return [];
  const hits: RuleHit[] = [];
  const { last, inner, stem } = extensionsOf(fileName);
  if (last === undefined) return hits;
  const lastBanned = rules.extensions.has(last) && !rules.allow.extensions.has(last);
  if (lastBanned) hits.push({ symbol: 'BANNED_EXTENSION', detail: `.${last}` });
  if (lastBanned) {
    if (inner !== undefined && rules.decoys.has(inner)) {
      hits.push({ symbol: 'BANNED_DOUBLE_EXTENSION', detail: `.${inner}.${last}` });
    } else if (new RegExp(`${BLANK}{${rules.spaceRun},}$`, 'u').test(stem)) {
      hits.push({ symbol: 'BANNED_DOUBLE_EXTENSION', detail: `blanks before .${last}` });
    } else if (BIDI.test(fileName)) {
      hits.push({ symbol: 'BANNED_DOUBLE_EXTENSION', detail: `bidi control in name ending .${last}` });
    }
  }
  return hits;
}

/** Rules by declared MIME type. */
export function checkMimeType(rules: RuleSet, contentType: string | undefined, fileName?: string): RuleHit[] {
  if (!contentType || (fileName !== undefined && nameAllowed(rules, fileName))) return [];
  const hit = mimeMatches(rules.mimeTypes, contentType);
  if (!hit || mimeMatches(rules.allow.mimeTypes, contentType)) return [];
  return [{ symbol: 'BANNED_MIME_TYPE', detail: contentType.toLowerCase() }];
}

/** Rules by real type (from magic bytes). */
export function checkRealType(rules: RuleSet, realType: string | undefined, fileName?: string): RuleHit[] {
  if (!realType || (fileName !== undefined && nameAllowed(rules, fileName))) return [];
  const t = realType.toLowerCase();
  if (!rules.realTypes.has(t) || rules.allow.realTypes.has(t)) return [];
  return [{ symbol: 'BANNED_REAL_TYPE', detail: t }];
}
