import { readFileSync } from 'node:fs';
import { createEngine, type Engine, type EngineOptions, type Plugin, type ScanEnvelope } from '@mef/core';
import { bannedAttachments, clamav } from '@mef/plugin-antivirus';
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
import {
  ConfigError,
  defaultConfig,
  type MefConfig,
  merge,
  modelExists,
  type ResolvedConfig,
} from './config.js';

export type { ResolvedConfig };

/** Reads the scores file of `scores` (`mef train --scores`); a bad file is a configuration error. */
function readScores(path: string): spam.LearnedScores {
  try {
    return spam.parseScores(JSON.parse(readFileSync(path, 'utf8')), path);
  } catch (err) {
    throw new ConfigError(`scores: ${(err as Error).message}`);
  }
}

/** Defaults, then the file, then the command line: later wins. */
export function resolveConfig(
  file: MefConfig | undefined,
  cli: MefConfig,
  env = process.env,
): ResolvedConfig {
  return merge(merge(defaultConfig(env), file ?? {}), cli) as ResolvedConfig;
}

type RblList = NonNullable<NonNullable<MefConfig['rbl']>['lists']>[number];
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

function listConfig(entry: RblList, uri: boolean): RblListConfig {
  const e = typeof entry === 'string' ? parseListArg(entry, uri ? 'uribl' : 'rbl') : entry;
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
    throw new ConfigError(`${option}: expected "host:port" or a socket path, found ${JSON.stringify(value)}`);
  }
  return { host: m[1], port };
}

/** An rspamd worker URL (`http://127.0.0.1:11333`) as the client's host and port. */
export function parseRspamdUrl(value: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`rspamd.url: expected an http:// URL, found ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:') {
    throw new ConfigError(
      `rspamd.url: expected an http:// URL (the worker speaks plain HTTP), found ${JSON.stringify(value)}`,
    );
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 11333 };
}

/** A plugin list and what they are, for `mef config defaults` and the table's summary. */
export interface BuiltEngine {
  readonly engine: Engine;
  readonly envelope: ScanEnvelope;
  readonly plugins: readonly string[];
  /** The Bayes model file in use, if any. */
  readonly model: string | undefined;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Builds (but does not start) the engine a resolved configuration describes. */
export function buildEngine(config: ResolvedConfig): BuiltEngine {
  const options: EngineOptions = {
    thresholds: config.thresholds,
    onError: config.onError,
    stageTimeout: config.timeout,
    monitor: config.monitor,
  };
  const engine = createEngine(options);
  const names: string[] = [];
  const use = (p: Plugin) => {
    engine.use(p);
    names.push(p.name);
  };
  try {
    if (config.rbl && ((config.rbl.lists?.length ?? 0) > 0 || (config.rbl.uribl?.length ?? 0) > 0)) {
      const lists = [
        ...(config.rbl.lists ?? []).map((l) => listConfig(l, false)),
        ...(config.rbl.uribl ?? []).map((l) => listConfig(l, true)),
      ];
      use(
        rbl({
          servers: config.rbl.dns,
          lists,
          ...opt('onError', config.rbl.onError),
          ...opt('timeout', config.rbl.timeout),
          // A scan run is short: probe once at start, not on a timer.
          probeInterval: 0,
        }),
      );
    }
    const learned = config.scores !== undefined ? readScores(config.scores) : undefined;
    if (config.rules.enabled !== false) {
      // Learned scores for the rules that run here; scores in the config still win.
      const off = new Set(config.rules.disable ?? []);
      const known = spam.builtinRules.filter((r) => !off.has(r.name)).map((r) => r.name);
      const fitted = Object.fromEntries(
        known.flatMap((n) => (learned?.rules[n] !== undefined ? [[n, learned.rules[n]]] : [])),
      );
      const scores = { ...fitted, ...config.rules.scores };
      use(
        spam.spamRules({
          ...opt('disable', config.rules.disable),
          ...(Object.keys(scores).length ? { scores } : {}),
        }),
      );
    }
    // The bands were fitted on probabilities from the classifier settings in the file.
    const bands = learned ? { ...learned.classifier, bands: learned.bayes } : {};
    let model: string | undefined;
    const b = config.bayes;
    if (b.redis !== undefined && b.enabled !== false) {
      model = b.redis;
      use(spam.bayes({ store: new spam.RedisStore({ url: b.redis }), ...bands }));
    } else if (b.enabled === true || (b.enabled !== false && modelExists(b.model))) {
      if (!modelExists(b.model)) {
        throw new ConfigError(
          `bayes.model: expected a model file written by \`mef train\`, found nothing at ${b.model}`,
        );
      }
      model = b.model;
      use(spam.bayes({ file: b.model, ...bands }));
    }
    if (config.attachments.enabled !== false) {
      use(
        bannedAttachments({
          ...opt('extensions', config.attachments.extensions),
          ...opt('action', config.attachments.action),
        }),
      );
    }
    if (config.clamav) {
      use(
        clamav({
          hosts: config.clamav.hosts,
          ...opt('onError', config.clamav.onError),
          ...opt('timeout', config.clamav.timeout),
          ...opt('maxSize', config.clamav.maxSize),
        }),
      );
    }
    if (config.spamassassin) {
      use(
        spam.spamassassin({
          ...parseHostPort(config.spamassassin.host, 'spamassassin.host'),
          ...opt('onError', config.spamassassin.onError),
          ...opt('timeout', config.spamassassin.timeout),
        }),
      );
    }
    if (config.rspamd) {
      use(
        spam.rspamd({
          ...parseRspamdUrl(config.rspamd.url),
          ...opt('onError', config.rspamd.onError),
          ...opt('timeout', config.rspamd.timeout),
        }),
      );
    }
    const env = config.envelope;
    const envelope: ScanEnvelope = {
      clientAddress: env.ip ?? '127.0.0.1',
      mailFrom: env.from ?? '',
      recipients: env.rcpt ?? [],
      ...opt('helo', env.helo),
      ...opt('user', env.user),
      ...opt('direction', env.direction),
    };
    return { engine, envelope, plugins: names, model };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // A factory refused an option (TypeError naming it): a configuration error.
    if (err instanceof TypeError || (err as { code?: string }).code === 'MEF_CORE_INVALID_OPTION') {
      throw new ConfigError((err as Error).message);
    }
    throw err;
  }
}
