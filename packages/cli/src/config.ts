import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { adminConfigSchema } from '@mef/admin';
import { filtersShape, relaySchema } from '@mef/relay';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const ms = z.number().int().positive().describe('Milliseconds');

/** The schema of a `--config` file (YAML or JSON). Every key is optional. */
export const configSchema = z
  .strictObject({
    ...filtersShape,
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
    firewall: z
      .strictObject({
        relays: z
          .array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'an IP address or CIDR' }))
          .min(1)
          .describe("The relays' addresses: the only senders each destination accepts SMTP from"),
        destinations: z
          .array(z.string().min(1))
          .optional()
          .describe('Hosts to protect, "host" or "host:port" (default: each relay.domains.*.destination)'),
      })
      .optional()
      .describe('`mef firewall`: rules for the destinations'),
    milter: z
      .strictObject({
        listen: z
          .union(
            [
              z.strictObject({
                host: z.string().min(1).optional().describe('Default 127.0.0.1'),
                port: z.number().int().min(0).max(65535),
              }),
              z.strictObject({ path: z.string().regex(/^\//).describe('A unix socket path') }),
            ],
            { error: 'an object with a port (and a host) or a socket path' },
          )
          .describe('Where `mef milter` listens (Postfix: smtpd_milters = inet:HOST:PORT or unix:PATH)'),
        progressInterval: ms
          .optional()
          .describe('PROGRESS replies this often while a verdict is pending (ms)'),
        replyAt: z
          .enum(['each-command', 'end-of-message'])
          .optional()
          .describe(
            'each-command (default): answer every SMTP command (refuse a recipient at RCPT); end-of-message: the MTA waits only at DATA and at end of message (refusals then, DELRCPT for a refused recipient)',
          ),
        threads: z
          .union([z.literal('auto'), z.number().int().min(0).max(64)])
          .optional()
          .describe(
            'Worker threads for the message phase, each with its own engine, when no stage acts before the message. 0 (default): the event loop; auto: 1 with 2 or more CPUs, 0 with one',
          ),
      })
      .optional()
      .describe('The milter `mef milter` runs for Postfix or Sendmail'),
    admin: adminConfigSchema.optional().describe("The domain administrators' web interface (`mef admin`)"),
    relay: relaySchema.optional().describe('The filtering relay (`mef relay`)'),
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
  stageTimeout: number;
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
    stageTimeout: 30_000,
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

/** The largest config file read (1 MiB): `--config /dev/urandom` must not read a gigabyte first. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads at most `max` bytes; a longer file (or a device that never ends) is a ConfigError. */
async function readBounded(file: string, max: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > max) throw new ConfigError(`${file}: the config file is larger than ${max} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Reads and validates a YAML or JSON config file. */
export async function loadConfigFile(file: string): Promise<MefConfig> {
  let text: string;
  try {
    text = await readBounded(file, MAX_CONFIG_BYTES);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
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
