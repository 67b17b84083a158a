import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const policy = z.enum(['tempfail', 'accept', 'reject']).describe('What a failure of this scanner turns into');
const detectionAction = z.enum(['reject', 'quarantine', 'tag']);
const ms = z.number().int().positive().describe('Milliseconds');
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):\d{1,5}$/, {
  error: 'a "host:port" address such as "127.0.0.1:783"',
});

/** One DNS list: a zone, optionally with a preset's return-code map and what it checks. */
export const rblListSchema = z
  .strictObject({
    zone: z.string().min(1).describe('The DNS zone, such as "zen.spamhaus.org"'),
    preset: z
      .enum(['zen', 'dbl', 'surbl', 'dnswl', 'generic'])
      .optional()
      .describe('Return-code map to use; default: known by the zone name, else generic'),
    type: z
      .enum(['ip', 'uri', 'domain'])
      .optional()
      .describe('ip: client and Received hops; uri: link domains; domain: HELO and sender domains'),
    score: z.number().optional().describe('Score of a listing for a generic zone (default 2)'),
    name: z
      .string()
      .regex(/^[A-Z0-9_]+$/, 'an UPPER_SNAKE name')
      .optional()
      .describe('Symbol suffix for a generic zone'),
  })
  .describe('A DNS list');

/** The schema of a `--config` file (YAML or JSON). Every key is optional. */
export const configSchema = z
  .strictObject({
    thresholds: z
      .strictObject({
        reject: z.number().nullable().optional(),
        addHeader: z.number().nullable().optional(),
        greylist: z.number().nullable().optional(),
      })
      .optional()
      .describe('Score thresholds; null switches an action off'),
    onError: policy.optional().describe('Default failure policy of the scanners'),
    timeout: ms.optional().describe('Per-stage timeout (ms)'),
    monitor: z.boolean().optional().describe('Monitor mode: tag, never reject'),
    concurrency: z.number().int().min(1).max(1024).optional().describe('Messages scanned at once'),
    envelope: z
      .strictObject({
        ip: z
          .union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address' })
          .optional()
          .describe('Connecting client IP'),
        helo: z.string().min(1).optional(),
        from: z.string().optional().describe('MAIL FROM address ("" for a bounce)'),
        rcpt: z.array(z.string().min(1)).optional(),
        user: z.string().min(1).optional().describe('Authenticated user'),
        direction: z.enum(['inbound', 'outbound']).optional(),
      })
      .optional()
      .describe('The SMTP envelope every message is scanned with'),
    rules: z
      .strictObject({
        enabled: z.boolean().optional(),
        disable: z.array(z.string()).optional().describe('Rule names to switch off'),
        scores: z.record(z.string(), z.number()).optional().describe('New scores by rule name'),
      })
      .optional()
      .describe('The built-in spam rules (on by default)'),
    attachments: z
      .strictObject({
        enabled: z.boolean().optional(),
        extensions: z.array(z.string().min(1)).optional().describe('Banned extensions, without the dot'),
        action: detectionAction.optional(),
      })
      .optional()
      .describe('The banned-attachment policy (on by default)'),
    bayes: z
      .strictObject({
        enabled: z
          .union([z.boolean(), z.literal('auto')])
          .optional()
          .describe('auto (default): on when the model file exists'),
        model: z.string().min(1).optional().describe('Model file written by `mef train`'),
        redis: z
          .string()
          .regex(/^rediss?:\/\//, { error: 'a redis:// URL' })
          .optional()
          .describe('Use the shared Redis store (written by `mef train --redis`) instead of a file'),
      })
      .optional()
      .describe('The Bayes classifier'),
    scores: z
      .string()
      .min(1)
      .optional()
      .describe('Rule and Bayes scores written by `mef train --scores` (off unless configured)'),
    clamav: z
      .strictObject({
        hosts: z.array(z.string().min(1)).min(1).describe('clamd addresses: "host:port" or a socket path'),
        onError: policy.optional(),
        timeout: ms.optional(),
        maxSize: z.number().int().positive().optional(),
      })
      .optional()
      .describe('ClamAV clamd (off unless configured)'),
    spamassassin: z
      .strictObject({
        host: z
          .union([hostPort, z.string().regex(/^\//)], { error: 'a "host:port" address or a socket path' })
          .describe('spamd address: "host:port" or a unix socket path'),
        onError: policy.optional(),
        timeout: ms.optional(),
      })
      .optional()
      .describe('SpamAssassin spamd (off unless configured)'),
    rspamd: z
      .strictObject({
        url: z.url().describe('rspamd worker URL, such as http://127.0.0.1:11333'),
        onError: policy.optional(),
        timeout: ms.optional(),
      })
      .optional()
      .describe('rspamd (off unless configured)'),
    rbl: z
      .strictObject({
        dns: z
          .array(z.union([hostPort, z.ipv4(), z.ipv6()], { error: 'an IP address with an optional port' }))
          .min(1, { error: 'at least one DNS server (--dns host:port); MEF never asks the system resolver' })
          .describe('DNS servers to ask'),
        lists: z
          .array(z.union([z.string().min(1), rblListSchema]))
          .optional()
          .describe('Lists for the client IP and Received hops: "ZONE", "zen", "zen=ZONE" or an object'),
        uribl: z
          .array(z.union([z.string().min(1), rblListSchema]))
          .optional()
          .describe('Lists checked for link domains'),
        onError: policy.optional(),
        timeout: ms.optional().describe('DNS timeout (ms)'),
      })
      .optional()
      .describe('DNS blocklists (off unless configured)'),
  })
  .describe('mef configuration');

export type MefConfig = z.infer<typeof configSchema>;

/** The folder of MEF's own files: `$MEF_HOME`, else `~/.mef`. */
export function mefHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEF_HOME ? resolve(env.MEF_HOME) : join(homedir(), '.mef');
}

/** Where `mef train` writes and `mef scan` looks for the Bayes model by default. */
export function defaultModelPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(mefHome(env), 'bayes.json');
}

/** The configuration after defaults, file and command line have been merged. */
export type ResolvedConfig = MefConfig & {
  thresholds: { reject: number | null; addHeader: number | null; greylist: number | null };
  onError: 'tempfail' | 'accept' | 'reject';
  timeout: number;
  monitor: boolean;
  concurrency: number;
  envelope: NonNullable<MefConfig['envelope']>;
  rules: NonNullable<MefConfig['rules']>;
  attachments: NonNullable<MefConfig['attachments']>;
  bayes: { enabled?: boolean | 'auto'; model: string; redis?: string };
};

/** The effective configuration with no file and no options. */
export function defaultConfig(env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  return {
    thresholds: { reject: 15, addHeader: 6, greylist: 4 },
    onError: 'tempfail',
    timeout: 30_000,
    monitor: false,
    concurrency: 8,
    envelope: { ip: '127.0.0.1', from: '', rcpt: [], direction: 'inbound' },
    rules: { enabled: true },
    attachments: { enabled: true },
    bayes: { enabled: 'auto', model: defaultModelPath(env) },
  };
}

/** A configuration problem: exits 2. The message names the key path, the expectation and the value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

/** Formats zod issues as `file: key.path: expected X, found Y` lines. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, where: string): string {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${where}: ${pathString([...issue.path, key])}: unknown key (not in the schema)`);
      }
      continue;
    }
    const found = describeValue(valueAt(input, issue.path));
    let expected = issue.message;
    if (issue.code === 'invalid_type') expected = `expected ${issue.expected}`;
    else if (issue.code === 'invalid_value') {
      expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (issue.code === 'too_small' || issue.code === 'too_big') {
      expected = issue.message.replace(/^Too (small|big):\s*/i, '');
    } else if (issue.code === 'invalid_union' && /^Invalid input/.test(issue.message)) {
      expected = 'expected one of the allowed forms (see `mef config schema`)';
    } else if (issue.code === 'invalid_format' && /^Invalid/.test(issue.message)) {
      expected = `expected a valid ${issue.format}`;
    }
    if (!/^expected/i.test(expected)) expected = `expected ${expected}`;
    lines.push(`${where}: ${pathString(issue.path)}: ${expected}, found ${found}`);
  }
  return lines.join('\n');
}

/** Validates a parsed object; throws a ConfigError naming every bad key path. */
export function validateConfig(input: unknown, where = 'config'): MefConfig {
  const r = configSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(formatIssues(r.error.issues, input, where));
  return r.data;
}

/** Reads and validates a YAML or JSON config file. */
export async function loadConfigFile(file: string): Promise<MefConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  let data: unknown;
  try {
    data = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError(`${file}: (top level): expected an object, found ${describeValue(data)}`);
  }
  return validateConfig(data ?? {}, file);
}

/** The JSON Schema of the config file. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input' });
}

/** Deep merge for plain objects; arrays and scalars of `over` replace those of `base`. */
export function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (
    base === null ||
    over === null ||
    typeof base !== 'object' ||
    typeof over !== 'object' ||
    Array.isArray(base) ||
    Array.isArray(over)
  ) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[k] = merge(out[k], v);
  }
  return out as T;
}

/** True when the model file exists (for `bayes.enabled: auto`). */
export function modelExists(path: string): boolean {
  return existsSync(path);
}
