import * as spam from '@mef/plugin-spam';

/** Options of {@link runRules}. */
export interface RulesRunOptions {
  /** Folders of `.cf` files; default: the installed SpamAssassin rules. */
  readonly dirs: readonly string[] | undefined;
  readonly json: boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * `mef rules`: loads the SpamAssassin rule files as `mef scan --sa-rules` would, and lists
 * the rules that run and the ones skipped with the reason. Exit 0, or 2 when the folders
 * cannot be read.
 */
export function runRules(o: RulesRunOptions): number {
  const dirs = o.dirs?.length ? o.dirs : [spam.installedSaRulesDir()].filter((d): d is string => !!d);
  if (dirs.length === 0) {
    o.stderr(
      'mef rules: no SpamAssassin rules found (apt-get install spamassassin, or give --sa-rules DIR)\n',
    );
    return 2;
  }
  let ruleSet: spam.SaRuleSet;
  try {
    ruleSet = spam.loadSaRules({ dirs });
  } catch (err) {
    o.stderr(`mef rules: ${(err as Error).message}\n`);
    return 2;
  }
  const loaded = ruleSet.info().filter((r) => !r.name.startsWith('__'));
  const sub = ruleSet.rules.length - loaded.length;
  const skipped = ruleSet.skipped.filter((s) => s.name !== undefined);
  if (o.json) {
    o.stdout(`${JSON.stringify({ dirs, loaded, subRules: sub, skipped }, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(4, ...loaded.map((r) => r.name.length));
  o.stdout(`SpamAssassin rules from ${dirs.join(', ')}\n\n`);
  for (const r of loaded) {
    o.stdout(
      `${r.name.padEnd(width)}  ${r.type.padEnd(10)} ${r.score.toFixed(3).padStart(8)}  ${r.description ?? ''}\n`,
    );
  }
  o.stdout(`\nskipped:\n`);
  for (const s of skipped) o.stdout(`${(s.name ?? '').padEnd(width)}  ${s.reason}\n`);
  o.stdout(`\n${loaded.length} rules loaded (and ${sub} sub-rules), ${skipped.length} skipped\n`);
  return 0;
}
