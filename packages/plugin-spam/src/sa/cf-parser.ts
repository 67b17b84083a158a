/**
 * Reads SpamAssassin's `.cf` language: rule definitions (header, mimeheader, body, rawbody,
 * uri, full, meta), their score, describe, tflags and priority lines, ReplaceTags' tags, and
 * the `if` / `ifplugin` / `else` / `endif` / `require_version` blocks, evaluated against the
 * plugins and features we implement. Everything else (language-specific lines, list
 * settings, network settings) is ignored. Pure: text in, definitions out.
 */
import { ExpressionError, parseExpression } from './expression.js';

/** Rule types of the `.cf` language that we read. */
export type SaRuleType = 'header' | 'mimeheader' | 'body' | 'rawbody' | 'uri' | 'full' | 'meta';

const RULE_TYPES: ReadonlySet<string> = new Set([
  'header',
  'mimeheader',
  'body',
  'rawbody',
  'uri',
  'full',
  'meta',
]);

/** One rule definition line, as written (its last definition wins). */
export interface SaRuleSource {
  readonly name: string;
  readonly type: SaRuleType;
  readonly definition: string;
  readonly file: string;
  readonly line: number;
}

/** A line or block that was not read, and why. */
export interface SaSkip {
  readonly name?: string;
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** What the rule files say, before translation. */
export interface SaConfig {
  readonly rules: Map<string, SaRuleSource>;
  /** Score lines: one value, or the four score sets. */
  readonly scores: Map<string, readonly number[]>;
  readonly describes: Map<string, string>;
  readonly tflags: Map<string, readonly string[]>;
  readonly priorities: Map<string, number>;
  /** ReplaceTags values, keyed `tag NAME`, `pre NAME`, `inter NAME` or `post NAME`. */
  readonly replaceTags: Map<string, string>;
  readonly replaceRules: Set<string>;
  replaceStart: string;
  replaceEnd: string;
  /** Word lists the eval functions read (`freemail_domains`, `util_rb_2tld`, ...). */
  readonly lists: Map<string, string[]>;
  readonly skipped: SaSkip[];
}

/** Settings kept as word lists for the eval functions. */
const LIST_SETTINGS: ReadonlySet<string> = new Set([
  'freemail_domains',
  'freemail_whitelist',
  'freemail_welcomelist',
  'util_rb_tld',
  'util_rb_2tld',
  'util_rb_3tld',
]);

/** What conditions in the files are evaluated against. */
export interface SaEnvironment {
  /** SpamAssassin version we stand in for, as in `require_version` (`4.000001`). */
  readonly version: number;
  /** Full Perl names of the plugins `ifplugin`/`plugin()` count as loaded. */
  readonly plugins: ReadonlySet<string>;
  /** Names that `can(...)` answers true for (the part after the last `::`). */
  readonly features: ReadonlySet<string>;
}

/** A new, empty configuration. */
export function emptyConfig(): SaConfig {
  return {
    rules: new Map(),
    scores: new Map(),
    describes: new Map(),
    tflags: new Map(),
    priorities: new Map(),
    replaceTags: new Map(),
    replaceRules: new Set(),
    replaceStart: '<',
    replaceEnd: '>',
    lists: new Map(),
    skipped: [],
  };
}

/** Drops a comment (an unescaped `#`) and unescapes `\#`, as SpamAssassin's parser does. */
export function stripComment(line: string): string {
  const m = /(?<!\\)#/.exec(line);
  const body = m ? line.slice(0, m.index) : line;
  return body.replace(/\\#/g, '#').trim();
}

function conditionValue(expr: string, env: SaEnvironment): boolean {
  const parsed = parseExpression(expr);
  return Boolean(
    parsed.evaluate((name) => {
      if (name === 'version') return env.version;
      if (name === 'perl_version') return 5.036;
      const call = /^(\w+)\((.*)\)$/.exec(name);
      if (call) {
        const arg = (call[2] as string).trim();
        if (call[1] === 'plugin') return env.plugins.has(arg) ? 1 : 0;
        if (call[1] === 'can' || call[1] === 'has') {
          const last = arg.split('::').pop() as string;
          return env.features.has(last) ? 1 : 0;
        }
      }
      throw new ExpressionError(`unknown name in condition: ${name}`);
    }),
  );
}

interface Block {
  readonly active: boolean;
  readonly parentActive: boolean;
  readonly condition: string;
}

/** Parses one file's text into `config` (later lines and files override earlier ones). */
export function parseCf(text: string, file: string, env: SaEnvironment, config: SaConfig): void {
  const stack: Block[] = [];
  const lines = text.split(/\r?\n/);
  const active = () => (stack.length ? (stack[stack.length - 1] as Block).active : true);
  for (let n = 0; n < lines.length; n++) {
    const line = stripComment(lines[n] as string);
    if (line === '') continue;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line) as RegExpExecArray;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] ?? '').trim();
    const lineNo = n + 1;
    if (key === 'if' || key === 'ifplugin') {
      const parentActive = active();
      let on = false;
      if (parentActive) {
        try {
          on = key === 'ifplugin' ? env.plugins.has(value) : conditionValue(value, env);
        } catch (err) {
          config.skipped.push({
            file,
            line: lineNo,
            reason: `condition not understood: ${(err as Error).message}`,
          });
        }
        if (!on && key === 'ifplugin') {
          config.skipped.push({ file, line: lineNo, reason: `block needs plugin ${value}` });
        }
      }
      stack.push({ active: parentActive && on, parentActive, condition: value });
      continue;
    }
    if (key === 'else') {
      const top = stack.pop();
      if (!top) {
        config.skipped.push({ file, line: lineNo, reason: 'else without if' });
        continue;
      }
      stack.push({
        active: top.parentActive && !top.active,
        parentActive: top.parentActive,
        condition: top.condition,
      });
      continue;
    }
    if (key === 'endif') {
      if (!stack.pop()) config.skipped.push({ file, line: lineNo, reason: 'endif without if' });
      continue;
    }
    if (!active()) continue;
    if (key === 'require_version') {
      if (Math.abs(Number(value) - env.version) > 1e-9) {
        config.skipped.push({
          file,
          line: lineNo,
          reason: `file requires SpamAssassin ${value}; rest of file ignored`,
        });
        return;
      }
      continue;
    }
    readSetting(key, value, file, lineNo, config);
  }
}

function readSetting(key: string, value: string, file: string, line: number, config: SaConfig): void {
  if (RULE_TYPES.has(key)) {
    const m = /^(\S+)\s+(.*)$/.exec(value);
    if (!m) {
      config.skipped.push({ file, line, reason: `${key} line without a definition` });
      return;
    }
    const name = m[1] as string;
    config.rules.set(name, {
      name,
      type: key as SaRuleType,
      definition: (m[2] as string).trim(),
      file,
      line,
    });
    return;
  }
  if (LIST_SETTINGS.has(key)) {
    let list = config.lists.get(key);
    if (!list) {
      list = [];
      config.lists.set(key, list);
    }
    for (const w of value.split(/\s+/)) if (w) list.push(w.toLowerCase());
    return;
  }
  const [name, rest = ''] = splitFirst(value);
  switch (key) {
    case 'score': {
      const nums = rest.split(/\s+/).filter(Boolean).map(Number);
      if (nums.length === 0 || nums.some((x) => !Number.isFinite(x))) {
        config.skipped.push({ name, file, line, reason: `score not a number: ${rest}` });
        return;
      }
      config.scores.set(name, nums);
      return;
    }
    case 'describe':
      config.describes.set(name, rest);
      return;
    case 'tflags':
      config.tflags.set(name, rest.split(/\s+/).filter(Boolean));
      return;
    case 'priority':
      config.priorities.set(name, Number(rest) || 0);
      return;
    case 'replace_tag':
    case 'replace_pre':
    case 'replace_inter':
    case 'replace_post':
      config.replaceTags.set(`${key.slice(8)} ${name}`, rest);
      return;
    case 'replace_rules':
      for (const r of value.split(/\s+/).filter(Boolean)) config.replaceRules.add(r);
      return;
    case 'replace_start':
      config.replaceStart = value;
      return;
    case 'replace_end':
      config.replaceEnd = value;
      return;
    default:
      // Settings that do not define or weigh a rule (lists, languages, network) are not ours.
      return;
  }
}

function splitFirst(value: string): [string, string] {
  const m = /^(\S+)(?:\s+(.*))?$/.exec(value);
  return m ? [m[1] as string, (m[2] ?? '').trim()] : ['', ''];
}
