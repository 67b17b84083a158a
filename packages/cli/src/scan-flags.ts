/**
 * The `mef scan` options as a config object, merged over the config file and validated with
 * the same schema, so that an error names the option or the file it came from.
 */

import { parseListArg } from '@mef/relay';
import { ConfigError, configSchema, formatIssues, loadConfigFile, type MefConfig, merge } from './config.js';

/** The scan options as a config object (so that they go through the same schema). */
export interface ScanFlags {
  json?: boolean;
  ext?: string[];
  ip?: string;
  helo?: string;
  from?: string;
  rcpt?: string[];
  user?: string;
  direction?: string;
  clamd?: string[];
  spamd?: string;
  rspamd?: string;
  dns?: string[];
  rbl?: string[];
  uribl?: string[];
  auth?: boolean;
  dmarcReject?: string;
  bayes?: string | boolean;
  bayesRedis?: string;
  scores?: string;
  rules?: boolean;
  saRules?: string[];
  attachments?: boolean;
  config?: string;
  concurrency?: number;
  workers?: number;
  stageTimeout?: number;
  monitor?: boolean;
}

/** The key path a command-line option fills, to name the option in an error. */
const FLAG_OF: Record<string, string> = {
  'envelope.ip': '--ip',
  'envelope.helo': '--helo',
  'envelope.from': '--from',
  'envelope.rcpt': '--rcpt',
  'envelope.user': '--user',
  'envelope.direction': '--direction',
  'clamav.hosts': '--clamd',
  'spamassassin.host': '--spamd',
  'rspamd.url': '--rspamd',
  'rbl.dns': '--dns',
  'rbl.lists': '--rbl',
  'rbl.uribl': '--uribl',
  'auth.dns': '--dns',
  'auth.dmarcReject': '--dmarc-reject',
  'bayes.model': '--bayes',
  'bayes.redis': '--bayes-redis',
  'rules.spamassassin': '--sa-rules',
  scores: '--scores',
};

function flagsToConfig(f: ScanFlags): Record<string, unknown> {
  const c: Record<string, Record<string, unknown> | unknown> = {};
  const envelope: Record<string, unknown> = {};
  if (f.ip !== undefined) envelope.ip = f.ip;
  if (f.helo !== undefined) envelope.helo = f.helo;
  if (f.from !== undefined) envelope.from = f.from;
  if (f.rcpt !== undefined) envelope.rcpt = f.rcpt;
  if (f.user !== undefined) envelope.user = f.user;
  if (f.direction !== undefined) envelope.direction = f.direction;
  if (Object.keys(envelope).length) c.envelope = envelope;
  if (f.clamd) c.clamav = { hosts: f.clamd };
  if (f.spamd !== undefined) c.spamassassin = { host: f.spamd };
  if (f.rspamd !== undefined) c.rspamd = { url: f.rspamd };
  const rbl: Record<string, unknown> = {};
  if (f.dns) rbl.dns = f.dns;
  if (f.rbl) rbl.lists = f.rbl.map((z) => parseListArg(z, 'rbl'));
  if (f.uribl) rbl.uribl = f.uribl.map((z) => parseListArg(z, 'uribl'));
  if (Object.keys(rbl).length) c.rbl = rbl;
  if (f.auth || f.dmarcReject !== undefined) {
    // --auth turns the SPF/DKIM/DMARC/ARC checks on; they ask the --dns servers too.
    c.auth = { ...(f.dns ? { dns: f.dns } : {}), ...(f.dmarcReject ? { dmarcReject: f.dmarcReject } : {}) };
  }
  if (typeof f.bayes === 'string') c.bayes = { enabled: true, model: f.bayes };
  else if (f.bayes === false) c.bayes = { enabled: false };
  if (f.bayesRedis !== undefined) c.bayes = { ...((c.bayes as object) ?? {}), redis: f.bayesRedis };
  if (f.scores !== undefined) c.scores = f.scores;
  if (f.rules === false) c.rules = { enabled: false };
  if (f.saRules) c.rules = { ...((c.rules as object) ?? {}), spamassassin: f.saRules };
  if (f.attachments === false) c.attachments = { enabled: false };
  if (f.concurrency !== undefined) c.concurrency = f.concurrency;
  if (f.stageTimeout !== undefined) c.stageTimeout = f.stageTimeout;
  if (f.monitor) c.monitor = true;
  return c;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.filter((k) => typeof k === 'string').join('.');
}

function hasPath(obj: unknown, path: readonly PropertyKey[]): boolean {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(k in (cur as object))) return false;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return true;
}

/** File, then command line, validated together; errors name the file or the option. */
export async function configFrom(flags: ScanFlags): Promise<MefConfig> {
  const file = flags.config ? await loadConfigFile(flags.config) : {};
  const cli = flagsToConfig(flags);
  const merged = merge(file as Record<string, unknown>, cli);
  const r = configSchema.safeParse(merged);
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const fromCli =
      hasPath(cli, issue.path.slice(0, 2)) && !(issue.path.length === 1 && issue.code === 'invalid_type');
    const key = pathOf(issue.path);
    const flag = Object.entries(FLAG_OF).find(([k]) => key === k || key.startsWith(`${k}.`))?.[1];
    const where = fromCli ? `command line${flag ? ` (${flag})` : ''}` : (flags.config ?? 'config');
    return formatIssues([issue], merged, where);
  });
  // A list without a resolver: say which option is missing.
  throw new ConfigError(
    lines
      .join('\n')
      .replace(
        /rbl\.dns: expected array, found nothing/,
        'rbl.dns: expected a DNS server for the lists (--dns host:port; MEF never asks the system resolver), found nothing',
      )
      .replace(
        /auth\.dns: expected array, found nothing/,
        'auth.dns: expected a DNS server for --auth (--dns host:port; MEF never asks the system resolver), found nothing',
      ),
  );
}
