/**
 * The rivals' verdicts on the time split's test messages, kept in a file so a later report can
 * set MEF beside them without scanning everything with spamd again (about half an hour for all
 * 2,796 test messages). The rivals do not depend on MEF's settings: only on the training and
 * test sets, which are fixed. `evaluate --split time --rivals --rivals-out FILE` writes it;
 * `evaluate --split time --rivals-from FILE` reads it and counts the figures again on the
 * test messages, refusing a file that does not cover every one of them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { CorpusMessage } from '@mef/test-servers/corpus';
import { figures } from './evaluation.js';
import type { RivalResult, RivalVerdict } from './rivals.js';

/** What the file holds. */
interface VerdictsFile {
  readonly command: string;
  readonly recorded: string;
  readonly rivals: readonly {
    readonly name: string;
    readonly trainSeconds: number;
    readonly scanSeconds: number;
    /** `folder/id` → 1 flagged, 0 not flagged, -1 not scanned (counted as not flagged). */
    readonly verdicts: Readonly<Record<string, 0 | 1 | -1>>;
  }[];
}

/** Writes the rivals' verdicts, with the command that produced them and the time. */
export async function saveRivalVerdicts(
  path: string,
  rivals: readonly RivalResult[],
  command: string,
): Promise<void> {
  const file: VerdictsFile = {
    command,
    recorded: new Date().toISOString(),
    rivals: rivals.map((r) => ({
      name: r.name,
      trainSeconds: Math.round(r.trainSeconds),
      scanSeconds: Math.round(r.scanSeconds),
      verdicts: Object.fromEntries(r.verdicts.map((v) => [v.key, v.failed ? -1 : v.flagged ? 1 : 0])),
    })),
  };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The rivals of a verdicts file, counted on `test`; with where they came from, for the report. */
export async function loadRivalVerdicts(
  path: string,
  test: readonly CorpusMessage[],
): Promise<{ rivals: RivalResult[]; command: string; recorded: string }> {
  const file = JSON.parse(await readFile(path, 'utf8')) as VerdictsFile;
  if (!Array.isArray(file.rivals)) throw new Error(`${path}: not a rival verdicts file (no "rivals" list)`);
  const rivals = file.rivals.map((r): RivalResult => {
    const verdicts: RivalVerdict[] = test.map((m) => {
      const key = `${m.folder}/${m.id}`;
      const v = r.verdicts[key];
      if (v === undefined) throw new Error(`${path}: ${r.name} has no verdict for ${key}`);
      return { key, label: m.label, flagged: v === 1, failed: v === -1 };
    });
    return {
      name: r.name,
      figures: figures(verdicts.map((v) => ({ label: v.label, marked: v.flagged }))),
      trainSeconds: r.trainSeconds,
      scanSeconds: r.scanSeconds,
      failed: verdicts.filter((v) => v.failed).length,
      verdicts,
    };
  });
  return { rivals, command: file.command, recorded: file.recorded };
}
