import { readFileSync } from 'node:fs';
import type { Plugin } from '@mef/core';
import { bannedAttachments, clamav } from '@mef/plugin-antivirus';
import { auth } from '@mef/plugin-auth';
import {
  dnswl,
  genericList,
  type RblListConfig,
  rbl,
  spamhausDbl,
  spamhausZen,
  surblMulti,
} from '@mef/plugin-rbl';
import * as spam from '@mef/plugin-spam';
import type { FilterSettings } from './filters-schema.js';
import type { ScannerGroup } from './relay-stage.js';

type RblList = NonNullable<NonNullable<FilterSettings['rbl']>['lists']>[number];
/** A return-code preset of `@mef/plugin-rbl`, or `generic` for any other zone. */
export type Preset = 'zen' | 'dbl' | 'surbl' | 'dnswl' | 'generic';

const PRESET_ZONES: Record<Exclude<Preset, 'generic'>, string> = {
  zen: 'zen.spamhaus.org',
  dbl: 'dbl.spamhaus.org',
  surbl: 'multi.surbl.org',
  dnswl: 'list.dnswl.org',
};

/** Which preset a well-known zone uses (a Spamhaus DQS zone such as `KEY.zen.dq.spamhaus.net` too). */
export function presetFor(zone: string): Preset {
  const z = zone.toLowerCase().replace(/\.$/, '');
  if (z === 'zen.spamhaus.org' || z.endsWith('.zen.dq.spamhaus.net')) return 'zen';
  if (z === 'dbl.spamhaus.org' || z.endsWith('.dbl.dq.spamhaus.net')) return 'dbl';
  if (z === 'multi.surbl.org') return 'surbl';
  if (z === 'list.dnswl.org') return 'dnswl';
  return 'generic';
}

/**
 * Parses a `--rbl`/`--uribl` value: `ZONE`, a preset name alone (`zen`), or `PRESET=ZONE` to
 * use a preset's return codes with another zone (a mirror or a test zone). A `--uribl` list
 * checks link domains; a `--rbl` list checks what its preset checks (DBL: HELO, sender and
 * link domains; ZEN and unknown zones: the client IP and the Received hops).
 */
export function parseListArg(value: string, kind: 'rbl' | 'uribl'): Exclude<RblList, string> {
  const type = kind === 'uribl' ? { type: 'uri' as const } : {};
  const m = /^(zen|dbl|surbl|dnswl|generic)=(.+)$/.exec(value);
  if (m) return { zone: m[2] as string, preset: m[1] as Preset, ...type };
  if (value in PRESET_ZONES) {
    return { zone: PRESET_ZONES[value as keyof typeof PRESET_ZONES], preset: value as Preset, ...type };
  }
  return { zone: value, ...type };
}

const CHECKS = {
  // Offline, the Received hops are what there is to check: the client IP is often unknown.
  ip: ['client', 'received'],
  uri: ['uri'],
  domain: ['helo', 'mailfrom', 'from'],
} as const;

function listConfig(entry: RblList, uri: boolean, rejectAt: DnsListsAt | undefined): RblListConfig {
  const e = typeof entry === 'string' ? parseListArg(entry, uri ? 'uribl' : 'rbl') : entry;
  const config = presetList(e, uri);
  // A blocklist of the client (or HELO and sender) refuses at the configured step; link and
  // allow lists only score, whatever the step.
  const early = config.checks.some((c) => c !== 'uri' && c !== 'uri-ip');
  return rejectAt && early && config.allowlist !== true ? { ...config, reject: rejectAt } : config;
}

function presetList(e: Exclude<RblList, string>, uri: boolean): RblListConfig {
  const preset = e.preset ?? presetFor(e.zone);
  const over: Partial<RblListConfig> = { zone: e.zone };
  const type = e.type ?? (uri ? 'uri' : undefined);
  if (type) over.checks = CHECKS[type];
  switch (preset) {
    case 'zen':
      return spamhausZen({ checks: CHECKS.ip, ...over });
    case 'dbl':
      return spamhausDbl(over);
    case 'surbl':
      return surblMulti(over);
    case 'dnswl':
      return dnswl(over);
    default:
      return genericList(e.zone, {
        checks: CHECKS[type ?? 'ip'],
        ...(e.score !== undefined ? { defaultScore: e.score } : {}),
        ...(e.name !== undefined ? { name: e.name } : {}),
        // An unknown zone is not probed: there is no test entry we can count on.
        probe: false,
      });
  }
}

/** `host:port`, `[v6]:port` or a unix socket path, as the spamd client takes it. */
export function parseHostPort(
  value: string,
  option: string,
): { host: string; port: number } | { socketPath: string } {
  if (value.startsWith('/')) return { socketPath: value };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) {
    throw new TypeError(`${option}: expected "host:port" or a socket path, found ${JSON.stringify(value)}`);
  }
  return { host: m[1], port };
}

/** An rspamd worker URL (`http://127.0.0.1:11333`) as the client's host and port. */
export function parseRspamdUrl(value: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`rspamd.url: expected an http:// URL, found ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:') {
    throw new TypeError(
      `rspamd.url: expected an http:// URL (the worker speaks plain HTTP), found ${JSON.stringify(value)}`,
    );
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 11333 };
}

/** A plugin and the scanner group a domain can switch it off with. */
export interface GroupedPlugin {
  readonly plugin: Plugin;
  readonly group: ScannerGroup | 'other';
}

/** The plugins the `filters` section describes, in order, and the Bayes model in use. */
export interface BuiltPlugins {
  readonly plugins: readonly GroupedPlugin[];
  /** The Bayes model file or Redis URL in use, if any. */
  readonly model: string | undefined;
}

/** Where a listed client is refused: at connect (554), or at each RCPT (550). */
export type DnsListsAt = 'connect' | 'rcpt';

export interface BuildPluginsOptions {
  /** Refuse a client on a DNS blocklist at this step; default: the lists only score. */
  dnsListsAt?: DnsListsAt;
  /** The model file `bayes.enabled: auto` looks for when `bayes.model` is not set. */
  defaultModel?: string;
  /** Whether a file exists (for `bayes.enabled: auto`). */
  exists?: (path: string) => boolean;
  /** Probe DNS lists once at start, not on a timer (a scan run is short). Default: a timer. */
  probeOnce?: boolean;
  /** False leaves greylisting out even when configured (`mef scan` never defers). Default true. */
  greylist?: boolean;
}

/** Reads the scores file of `scores` (`mef train --scores`); a bad file throws naming the key. */
function readScores(path: string): spam.LearnedScores {
  try {
    return spam.parseScores(JSON.parse(readFileSync(path, 'utf8')), path);
  } catch (err) {
    throw new TypeError(`scores: ${(err as Error).message}`);
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * The plugins a configuration's `filters` section describes, the same for `mef scan` and the relay: DNS lists,
 * the built-in rules, Bayes, banned attachments, clamd, spamd, rspamd. A bad option throws a
 * TypeError naming it. Greylisting joins here (group `greylist`) when @mef/plugin-spam has it.
 */
export function buildPlugins(config: FilterSettings, options: BuildPluginsOptions = {}): BuiltPlugins {
  const plugins: GroupedPlugin[] = [];
  const use = (plugin: Plugin, group: GroupedPlugin['group']) => plugins.push({ plugin, group });
  if (config.rbl && ((config.rbl.lists?.length ?? 0) > 0 || (config.rbl.uribl?.length ?? 0) > 0)) {
    const lists = [
      ...(config.rbl.lists ?? []).map((l) => listConfig(l, false, options.dnsListsAt)),
      ...(config.rbl.uribl ?? []).map((l) => listConfig(l, true, options.dnsListsAt)),
    ];
    use(
      rbl({
        servers: config.rbl.dns,
        lists,
        ...opt('onError', config.rbl.onError),
        ...opt('queryTimeout', config.rbl.queryTimeout),
        ...(options.probeOnce ? { probeInterval: 0 } : {}),
      }),
      'rbl',
    );
  }
  const learned = config.scores !== undefined ? readScores(config.scores) : undefined;
  if (config.rules?.enabled !== false) {
    // Learned scores for the rules that run here; scores in the config still win.
    const off = new Set(config.rules?.disable ?? []);
    const known = spam.builtinRules.filter((r) => !off.has(r.name)).map((r) => r.name);
    const fitted = Object.fromEntries(
      known.flatMap((n) => (learned?.rules[n] !== undefined ? [[n, learned.rules[n]]] : [])),
    );
    const scores = { ...fitted, ...config.rules?.scores };
    use(
      spam.spamRules({
        ...opt('disable', config.rules?.disable),
        ...(Object.keys(scores).length ? { scores } : {}),
      }),
      'spam',
    );
  }
  if (config.rules?.spamassassin?.length) {
    try {
      // Scores fitted by `mef train --sa-rules --scores` replace the rule files' own.
      const scores = learned ? { scores: learned.rules } : {};
      use(spam.spamassassinRules({ dirs: config.rules.spamassassin, ...scores }), 'spam');
    } catch (err) {
      throw new TypeError(`rules.spamassassin: ${(err as Error).message}`);
    }
  }
  // The bands were fitted on probabilities from the classifier settings in the file.
  const bands = learned ? { ...learned.classifier, bands: learned.bayes } : {};
  let model: string | undefined;
  const b = config.bayes ?? {};
  const exists = options.exists ?? (() => false);
  const file = b.model ?? options.defaultModel;
  if (b.redis !== undefined && b.enabled !== false) {
    model = b.redis;
    use(spam.bayes({ store: new spam.RedisStore({ url: b.redis }), ...bands }), 'spam');
  } else if (file && (b.enabled === true || (b.enabled !== false && exists(file)))) {
    if (!exists(file)) {
      throw new TypeError(
        `bayes.model: expected a model file written by \`mef train\`, found nothing at ${file}`,
      );
    }
    model = file;
    use(spam.bayes({ file, ...bands }), 'spam');
  } else if (b.enabled === true) {
    throw new TypeError('bayes.model: expected a model file written by `mef train`, found nothing');
  }
  if (config.auth && config.auth.enabled !== false) {
    const a = config.auth;
    use(
      auth({
        servers: a.dns,
        ...opt('spf', a.spf),
        ...opt('dkim', a.dkim),
        ...opt('dmarc', a.dmarc),
        ...opt('arc', a.arc),
        ...opt('dmarcReject', a.dmarcReject),
        ...opt('dmarcQuarantine', a.dmarcQuarantine),
        ...opt('hostname', a.hostname),
        ...opt('onError', a.onError),
        ...opt('queryTimeout', a.queryTimeout),
      }),
      'other',
    );
  }
  // Greylisting defers and remembers retries: only for hosts that answer SMTP, never a scan.
  if (config.greylist && config.greylist.enabled !== false && options.greylist !== false) {
    const g = config.greylist;
    use(
      spam.greylist({
        ...(g.redis ? { store: new spam.RedisGreylistStore({ url: g.redis }) } : {}),
        ...opt('delay', g.delay),
        ...opt('window', g.window),
        ...opt('remember', g.remember),
      }),
      'greylist',
    );
  }
  if (config.attachments?.enabled !== false) {
    use(
      bannedAttachments({
        ...opt('extensions', config.attachments?.extensions),
        ...opt('action', config.attachments?.action),
      }),
      'antivirus',
    );
  }
  if (config.clamav) {
    use(
      clamav({
        hosts: config.clamav.hosts,
        ...opt('onError', config.clamav.onError),
        ...opt('scanTimeout', config.clamav.scanTimeout),
        ...opt('maxSize', config.clamav.maxSize),
      }),
      'antivirus',
    );
  }
  if (config.spamassassin) {
    use(
      spam.spamassassin({
        ...parseHostPort(config.spamassassin.host, 'spamassassin.host'),
        ...opt('onError', config.spamassassin.onError),
        ...opt('scanTimeout', config.spamassassin.scanTimeout),
      }),
      'spam',
    );
  }
  if (config.rspamd) {
    use(
      spam.rspamd({
        ...parseRspamdUrl(config.rspamd.url),
        ...opt('onError', config.rspamd.onError),
        ...opt('scanTimeout', config.rspamd.scanTimeout),
      }),
      'spam',
    );
  }
  return { plugins, model };
}
