/**
 * A DNS list's configuration and its compiled form: what the list is asked, how its answers
 * read, whether a hit rejects, and how its health is probed.
 */
import { checkEnum, checkStrings, invalidOption } from '@mef/core';
import { normalizeZone } from './query.js';
import { checkSymbol, ReturnCodeMap, type ReturnCodeRule, spamhausErrorCodes } from './return-codes.js';

/**
 * What a list is asked about:
 * - `client`: the connecting IP (DNSBL);
 * - `received`: the public hops of `Received` fields (DNSBL);
 * - `helo`: the HELO/EHLO name (RHSBL);
 * - `mailfrom`: the domain of MAIL FROM (RHSBL);
 * - `from`: the domain of the `From` header (RHSBL);
 * - `uri`: the registrable domains of links in the body (URIBL, SURBL, DBL);
 * - `uri-ip`: the IPs of links such as `http://192.0.2.1/` (DNSBL or SURBL).
 */
export type RblCheck = 'client' | 'received' | 'helo' | 'mailfrom' | 'from' | 'uri' | 'uri-ip';

const CHECKS: readonly RblCheck[] = ['client', 'received', 'helo', 'mailfrom', 'from', 'uri', 'uri-ip'];
export const IP_CHECKS = new Set<RblCheck>(['client', 'received', 'uri-ip']);

/** The reply template of a rejecting list. `{target}`, `{zone}` and `{txt}` are filled in. */
export interface RblReplyTemplate {
  /** SMTP code (default 554 at connect, 550 later). */
  code?: number;
  /** Enhanced status code (default `5.7.1`). */
  enhanced?: string;
  /**
   * Text (default `"{target} is listed by {zone}{txt}"`); `{txt}` becomes `"; "` plus the
   * list's TXT reason when `txt` is on, else nothing.
   */
  text?: string;
}

/** The test entries a list's health probe asks for. */
export interface RblProbe {
  /** An entry the list must list (default `127.0.0.2`, or `test` for domain lists). */
  listed?: string;
  /** An entry the list must not list (default `127.0.0.1`, or `invalid` for domain lists). */
  unlisted?: string;
}

/** One DNS list. */
export interface RblListConfig {
  /** The zone, such as `zen.spamhaus.org`. */
  zone: string;
  /** Short name for symbols and health (default: the zone's first label, upper case). */
  name?: string;
  /** What the list is asked about. */
  checks: readonly RblCheck[];
  /** The return-code map; answers no rule matches fall to the default symbol. */
  returnCodes?: readonly ReturnCodeRule[];
  /**
   * Symbol for listed answers that no rule matches, or `null` to ignore them. Default:
   * `RBL_<NAME>` (`URIBL_<NAME>` for link-only lists, `DNSWL_<NAME>` for allowlists) when the
   * list has no return codes, else `null`.
   */
  defaultSymbol?: string | null;
  /** Score of the default symbol (default 2, or -2 for allowlists). */
  defaultScore?: number;
  /** Answers that are errors, never listings (default: the Spamhaus error codes). */
  errorCodes?: readonly string[];
  /** An allowlist (DNSWL): a hit lowers the score, may skip stages and cancels this plugin's rejects. */
  allowlist?: boolean;
  /** Stages to skip for the transaction when this allowlist lists the client (`ctx.findings.skip`). */
  skip?: readonly string[];
  /**
   * Whether a hit rejects: `'connect'` at the phase that found it (connect for the client,
   * HELO, MAIL FROM; end of message for message checks), `'rcpt'` at each RCPT (end of
   * message for message checks), `false` to score only (default).
   */
  reject?: false | 'connect' | 'rcpt';
  /** Reply of a reject. */
  reply?: RblReplyTemplate;
  /** Fetch the TXT record of a listing for the reply and the symbol (default false). */
  txt?: boolean;
  /** The health probe's test entries, or `false` for none. */
  probe?: RblProbe | false;
}

/** A list as the checker runs it. */
export interface CompiledList {
  readonly zone: string;
  readonly name: string;
  readonly checks: ReadonlySet<RblCheck>;
  readonly map: ReturnCodeMap;
  readonly allowlist: boolean;
  readonly skip: readonly string[];
  readonly reject: false | 'connect' | 'rcpt';
  readonly reply: RblReplyTemplate;
  readonly txt: boolean;
  readonly probe: { readonly ip?: Required<RblProbe>; readonly domain?: Required<RblProbe> } | false;
}

/** Compiles and checks one list config; a bad value throws a TypeError naming the option. */
export function compileList(config: RblListConfig, index = 0): CompiledList {
  const at = `lists[${index}]`;
  if (!config || typeof config !== 'object') throw invalidOption(at, config, 'a list config object');
  if (typeof config.zone !== 'string' || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(config.zone.trim())) {
    throw invalidOption(`${at}.zone`, config.zone, 'a DNS zone name such as "zen.spamhaus.org"');
  }
  const zone = normalizeZone(config.zone);
  if (!Array.isArray(config.checks) || config.checks.length === 0) {
    throw invalidOption(`${at}.checks`, config.checks, `a non-empty list of ${CHECKS.join(', ')}`);
  }
  for (const c of config.checks) checkEnum(`${at}.checks`, c, CHECKS);
  const name =
    config.name ??
    (zone.split('.')[0] ?? zone)
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  if (typeof name !== 'string' || !/^[A-Z0-9_]+$/.test(name)) {
    throw invalidOption(`${at}.name`, config.name, 'an UPPER_SNAKE name such as "ZEN"');
  }
  const allowlist = config.allowlist === true;
  const rules = config.returnCodes ?? [];
  if (!Array.isArray(rules)) throw invalidOption(`${at}.returnCodes`, rules, 'a list of return-code rules');
  const linkOnly = config.checks.every((c) => c === 'uri' || c === 'uri-ip');
  const prefix = allowlist ? 'DNSWL' : linkOnly ? 'URIBL' : 'RBL';
  let defaultSymbol =
    config.defaultSymbol === undefined ? (rules.length ? null : `${prefix}_${name}`) : config.defaultSymbol;
  if (defaultSymbol !== null) checkSymbol(defaultSymbol, `${at}.defaultSymbol`);
  const defaultScore = config.defaultScore ?? (allowlist ? -2 : 2);
  if (typeof defaultScore !== 'number' || !Number.isFinite(defaultScore)) {
    throw invalidOption(`${at}.defaultScore`, defaultScore, 'a finite number');
  }
  if (
    config.reject !== undefined &&
    config.reject !== false &&
    config.reject !== 'connect' &&
    config.reject !== 'rcpt'
  ) {
    throw invalidOption(`${at}.reject`, config.reject, 'false, "connect" or "rcpt"');
  }
  if (allowlist && config.reject)
    throw invalidOption(`${at}.reject`, config.reject, 'false for an allowlist');
  const skip = checkStrings(`${at}.skip`, config.skip) ?? [];
  const reply = config.reply ?? {};
  if (reply.code !== undefined && (!Number.isInteger(reply.code) || reply.code < 400 || reply.code > 599)) {
    throw invalidOption(`${at}.reply.code`, reply.code, 'a 4xx or 5xx SMTP code');
  }
  const map = new ReturnCodeMap(rules, {
    errorCodes: config.errorCodes ?? spamhausErrorCodes,
    option: `${at}.returnCodes`,
    ...(defaultSymbol !== null
      ? { defaultRule: { code: '127.0.0.0/8', symbol: defaultSymbol, score: defaultScore } }
      : {}),
  });
  defaultSymbol = defaultSymbol ?? null;
  const hasIp = config.checks.some((c) => IP_CHECKS.has(c));
  const hasDomain = config.checks.some((c) => !IP_CHECKS.has(c));
  const probe =
    config.probe === false
      ? false
      : {
          ...(hasIp
            ? {
                ip: {
                  listed: config.probe?.listed ?? '127.0.0.2',
                  unlisted: config.probe?.unlisted ?? '127.0.0.1',
                },
              }
            : {}),
          ...(hasDomain && !hasIp
            ? {
                domain: {
                  listed: config.probe?.listed ?? 'test',
                  unlisted: config.probe?.unlisted ?? 'invalid',
                },
              }
            : {}),
          ...(hasDomain && hasIp ? { domain: { listed: 'test', unlisted: 'invalid' } } : {}),
        };
  return {
    zone,
    name,
    checks: new Set(config.checks),
    map,
    allowlist,
    skip: [...skip],
    reject: config.reject ?? false,
    reply,
    txt: config.txt === true,
    probe,
  };
}
