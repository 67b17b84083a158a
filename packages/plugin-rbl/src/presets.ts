import type { RblListConfig } from './list-config.js';
import { spamhausErrorCodes } from './return-codes.js';

/** Overrides accepted by every preset (the zone too, for a mirror or a Data Query Service key). */
export type PresetOptions = Partial<RblListConfig>;

/**
 * Spamhaus ZEN (SBL, CSS, XBL, DROP, PBL) for the connecting IP. Scores follow rspamd's.
 * With `reject`, SBL, CSS, XBL and DROP reject; PBL (dynamic ranges) only scores.
 */
export function spamhausZen(options: PresetOptions = {}): RblListConfig {
  return {
    zone: 'zen.spamhaus.org',
    name: 'ZEN',
    checks: ['client'],
    returnCodes: [
      { code: '127.0.0.2', symbol: 'RBL_ZEN_SBL', score: 4, description: 'Spamhaus SBL: spam source' },
      { code: '127.0.0.3', symbol: 'RBL_ZEN_SBL_CSS', score: 2, description: 'Spamhaus CSS: snowshoe spam' },
      { code: '127.0.0.4/30', symbol: 'RBL_ZEN_XBL', score: 4, description: 'Spamhaus XBL: exploited host' },
      { code: '127.0.0.9', symbol: 'RBL_ZEN_DROP', score: 7, description: 'Spamhaus DROP: hijacked network' },
      {
        code: '127.0.0.10/31',
        symbol: 'RBL_ZEN_PBL',
        score: 2,
        description: 'Spamhaus PBL: end-user range that should not send direct',
        reject: false,
      },
    ],
    errorCodes: spamhausErrorCodes,
    txt: true,
    ...options,
  };
}

/**
 * Spamhaus DBL (domain blocklist) for HELO, sender domains and link domains.
 * `127.0.1.255` (IP queried) is an error code beside the Spamhaus ones.
 */
export function spamhausDbl(options: PresetOptions = {}): RblListConfig {
  return {
    zone: 'dbl.spamhaus.org',
    name: 'DBL',
    checks: ['helo', 'mailfrom', 'from', 'uri'],
    returnCodes: [
      { code: '127.0.1.2', symbol: 'DBL_SPAM', score: 6.5, description: 'DBL: spam domain' },
      { code: '127.0.1.4', symbol: 'DBL_PHISH', score: 6.5, description: 'DBL: phishing domain' },
      { code: '127.0.1.5', symbol: 'DBL_MALWARE', score: 6.5, description: 'DBL: malware domain' },
      { code: '127.0.1.6', symbol: 'DBL_BOTNET', score: 6.5, description: 'DBL: botnet C&C domain' },
      { code: '127.0.1.102', symbol: 'DBL_ABUSE', score: 5.5, description: 'DBL: abused legit spam' },
      { code: '127.0.1.103', symbol: 'DBL_ABUSE_REDIR', score: 1.5, description: 'DBL: abused redirector' },
      { code: '127.0.1.104', symbol: 'DBL_ABUSE_PHISH', score: 7.5, description: 'DBL: abused legit phish' },
      {
        code: '127.0.1.105',
        symbol: 'DBL_ABUSE_MALWARE',
        score: 7.5,
        description: 'DBL: abused legit malware',
      },
      {
        code: '127.0.1.106',
        symbol: 'DBL_ABUSE_BOTNET',
        score: 5.5,
        description: 'DBL: abused legit botnet C&C',
      },
    ],
    errorCodes: [...spamhausErrorCodes, '127.0.1.255'],
    probe: { listed: 'dbltest.com', unlisted: 'invalid' },
    ...options,
  };
}

/** SURBL multi: the last octet is a bitmask of lists (PH 8, MW 16, ABUSE 64, CR 128). */
export function surblMulti(options: PresetOptions = {}): RblListConfig {
  return {
    zone: 'multi.surbl.org',
    name: 'SURBL',
    checks: ['uri', 'uri-ip'],
    returnCodes: [
      { mask: 8, symbol: 'SURBL_PH', score: 5.5, description: 'SURBL: phishing' },
      { mask: 16, symbol: 'SURBL_MW', score: 5.5, description: 'SURBL: malware' },
      { mask: 64, symbol: 'SURBL_ABUSE', score: 5.5, description: 'SURBL: spam and abuse' },
      { mask: 128, symbol: 'SURBL_CR', score: 5.5, description: 'SURBL: cracked sites' },
    ],
    // SURBL answers 127.0.0.1 when it blocks a resolver.
    errorCodes: ['127.0.0.1', ...spamhausErrorCodes],
    probe: { listed: 'test', unlisted: 'invalid' },
    ...options,
  };
}

/** DNSWL.org allowlist: the last octet is the trust level (0 none, 1 low, 2 medium, 3 high). */
export function dnswl(options: PresetOptions = {}): RblListConfig {
  return {
    zone: 'list.dnswl.org',
    name: 'DNSWL',
    checks: ['client'],
    allowlist: true,
    returnCodes: [
      { octet: 0, symbol: 'DNSWL_NONE', score: 0, description: 'DNSWL: listed, no trust' },
      { octet: 1, symbol: 'DNSWL_LOW', score: -0.1, description: 'DNSWL: low trust' },
      { octet: 2, symbol: 'DNSWL_MED', score: -0.2, description: 'DNSWL: medium trust' },
      { octet: 3, symbol: 'DNSWL_HI', score: -0.5, description: 'DNSWL: high trust' },
    ],
    // 127.0.0.255: the querying resolver is blocked for too many queries.
    errorCodes: ['127.0.0.255', ...spamhausErrorCodes],
    ...options,
  };
}

/**
 * A generic zone: every answer in 127.0.0.0/8 except the error codes is a listing with one
 * symbol (`RBL_<NAME>`, `URIBL_<NAME>` for link lists, `DNSWL_<NAME>` for allowlists) and a
 * default score (2, or -2 for allowlists).
 */
export function genericList(zone: string, options: PresetOptions = {}): RblListConfig {
  return { zone, checks: ['client'], errorCodes: spamhausErrorCodes, ...options };
}
