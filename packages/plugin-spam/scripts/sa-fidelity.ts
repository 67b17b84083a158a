/**
 * Fidelity of the native SpamAssassin rules against a real spamd: for each rule that loaded
 * (and that spamd reports: not a sub-rule), the share of messages on which both agree that
 * it hit or did not. Shared by the fidelity script and its test.
 */
import { basename } from 'node:path';
import { startSpamd } from '@mef/test-servers';
import type { CorpusMessage } from '@mef/test-servers/corpus';
import { SpamdClient } from '../src/clients/spamd-client.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';

/** Agreement of one rule. */
export interface RuleAgreement {
  readonly name: string;
  readonly file: string;
  /** Messages where both hit. */
  readonly both: number;
  /** Messages where only we hit. */
  readonly onlyOurs: number;
  /** Messages where only spamd hit. */
  readonly onlySpamd: number;
  /** Share of messages on which we agree, 0 to 1. */
  readonly agreement: number;
}

/** The outcome of a comparison run. */
export interface FidelityReport {
  readonly messages: number;
  readonly rules: readonly RuleAgreement[];
  /** Per rule file: rules compared, the lowest and the mean agreement, rules under 95%. */
  readonly files: readonly { file: string; rules: number; min: number; mean: number; under95: number }[];
}

/** Asks spamd for the rules each message hits (SYMBOLS), `concurrency` at a time. */
export async function spamdHits(
  messages: readonly CorpusMessage[],
  port: number,
  concurrency = 2,
): Promise<Map<string, Set<string>>> {
  const client = new SpamdClient({ port, scanTimeout: 120_000 });
  const out = new Map<string, Set<string>>();
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++] as CorpusMessage;
      const r = await client.scan('SYMBOLS', m.raw);
      out.set(`${m.folder}/${m.id}`, new Set(r.symbols));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** `spamdHits` from a spamd of its own, started for the call and stopped after it. */
export async function spamdHitsOnce(messages: readonly CorpusMessage[]): Promise<Map<string, Set<string>>> {
  const spamd = await startSpamd();
  try {
    return await spamdHits(messages, spamd.port);
  } finally {
    await spamd.stop();
  }
}

/** Compares our hits with spamd's on the same messages. */
export function compare(
  ruleSet: SaRuleSet,
  messages: readonly CorpusMessage[],
  theirs: ReadonlyMap<string, ReadonlySet<string>>,
): FidelityReport {
  const reported = ruleSet.rules.filter((r) => !r.sub);
  const counts = new Map(reported.map((r) => [r.name, { both: 0, onlyOurs: 0, onlySpamd: 0 }]));
  for (const m of messages) {
    const key = `${m.folder}/${m.id}`;
    const ours = new Set(ruleSet.check(m.raw).hits.map((h) => h.name));
    const spamd = theirs.get(key) ?? new Set<string>();
    for (const r of reported) {
      const c = counts.get(r.name) as { both: number; onlyOurs: number; onlySpamd: number };
      const a = ours.has(r.name);
      const b = spamd.has(r.name);
      if (a && b) c.both++;
      else if (a) c.onlyOurs++;
      else if (b) c.onlySpamd++;
    }
  }
  const n = messages.length || 1;
  const rules = reported.map((r) => {
    const c = counts.get(r.name) as { both: number; onlyOurs: number; onlySpamd: number };
    return { name: r.name, file: basename(r.file), ...c, agreement: 1 - (c.onlyOurs + c.onlySpamd) / n };
  });
  const byFile = new Map<string, RuleAgreement[]>();
  for (const r of rules) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const files = [...byFile.entries()]
    .map(([file, rs]) => ({
      file,
      rules: rs.length,
      min: Math.min(...rs.map((r) => r.agreement)),
      mean: rs.reduce((a, r) => a + r.agreement, 0) / rs.length,
      under95: rs.filter((r) => r.agreement < 0.95).length,
    }))
    .sort((a, b) => a.file.localeCompare(b.file));
  return { messages: messages.length, rules, files };
}
