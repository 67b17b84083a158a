/**
 * Loads SpamAssassin's rule files from the folders of an installed SpamAssassin, at run
 * time (nothing is copied into this package): every `*.cf` of each folder in name order, the
 * folders in the order given, later definitions overriding earlier ones as in spamd.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalidOption } from '@mef/core';
import { emptyConfig, parseCf, type SaEnvironment } from './cf-parser.js';
import { SaRuleSet } from './rule-set.js';

/** The plugins a stock Debian SpamAssassin 4 loads (its `/etc/spamassassin/*.pre`). */
export const SA_DEFAULT_PLUGINS: readonly string[] = [
  'URIDNSBL',
  'SPF',
  'Pyzor',
  'Razor2',
  'SpamCop',
  'AutoLearnThreshold',
  'WelcomeListSubject',
  'MIMEHeader',
  'ReplaceTags',
  'DKIM',
  'Check',
  'HTTPSMismatch',
  'URIDetail',
  'Bayes',
  'BodyEval',
  'DNSEval',
  'HTMLEval',
  'HeaderEval',
  'MIMEEval',
  'RelayEval',
  'URIEval',
  'WLBLEval',
  'VBounce',
  'ImageInfo',
  'FreeMail',
  'AskDNS',
  'HashBL',
  'DMARC',
].map((p) => `Mail::SpamAssassin::Plugin::${p}`);

/** Names `can(...)` answers true for: the features SpamAssassin 4.0.1 declares that we honour. */
export const SA_FEATURES: readonly string[] = [
  'feature_bug6558_free',
  'feature_welcomelist_blocklist',
  'compat_welcomelist_blocklist',
  'perl_min_version_5010000',
  'has_check_body_length',
];

/** The version `require_version` and `if (version >= ...)` are checked against. */
export const SA_VERSION = 4.000001;

/** Options of {@link loadSaRules}. */
export interface SaLoadOptions {
  /** Folders holding `*.cf` files, read in this order. */
  readonly dirs: readonly string[];
  /** Plugins counted as loaded by `ifplugin`/`plugin()`. Default {@link SA_DEFAULT_PLUGINS}. */
  readonly plugins?: readonly string[];
}

/**
 * The folder of the installed rules: the newest `sa-update` folder under
 * `/var/lib/spamassassin` when there is one, else `/usr/share/spamassassin`; undefined when
 * SpamAssassin is not installed.
 */
export function installedSaRulesDir(): string | undefined {
  const updates = '/var/lib/spamassassin';
  if (existsSync(updates)) {
    for (const v of readdirSync(updates)
      .filter((d) => /^\d/.test(d))
      .sort()
      .reverse()) {
      const dir = join(updates, v, 'updates_spamassassin_org');
      if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.cf'))) return dir;
    }
  }
  return existsSync('/usr/share/spamassassin') ? '/usr/share/spamassassin' : undefined;
}

/** Reads and compiles the rule files of `dirs`. Throws a TypeError when a folder is missing. */
export function loadSaRules(options: SaLoadOptions): SaRuleSet {
  if (!Array.isArray(options.dirs) || options.dirs.length === 0) {
    throw invalidOption('dirs', options.dirs, 'a non-empty list of folders');
  }
  const env: SaEnvironment = {
    version: SA_VERSION,
    plugins: new Set(options.plugins ?? SA_DEFAULT_PLUGINS),
    features: new Set(SA_FEATURES),
  };
  const config = emptyConfig();
  for (const dir of options.dirs) {
    if (typeof dir !== 'string' || !existsSync(dir) || !statSync(dir).isDirectory()) {
      throw invalidOption('dirs', dir, 'a folder of SpamAssassin .cf files');
    }
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cf'))
      .sort();
    for (const f of files) {
      const path = join(dir, f);
      parseCf(readFileSync(path, 'latin1'), path, env, config);
    }
  }
  return new SaRuleSet(config);
}
