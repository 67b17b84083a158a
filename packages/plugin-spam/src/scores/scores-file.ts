import { readFile, rename, writeFile } from 'node:fs/promises';
import { SpamError } from '../errors.js';

/** The format tag of a scores file; a file with another tag is refused. */
export const SCORES_FORMAT = 'mef-scores/1';

/** A Bayes probability band: from `from` (inclusive) up to the next band's `from`, this score. */
export interface BayesBand {
  readonly from: number;
  readonly score: number;
}

/** The classifier settings the Bayes bands were fitted for; `mef scan --scores` classifies with them. */
export interface ScoredClassifier {
  readonly strength?: number;
  readonly maxDiscriminators?: number;
  readonly minDeviation?: number;
  readonly minCount?: number;
}

/** How the scores did on the validation split they were checked on. */
export interface ScoresValidation {
  readonly spam: number;
  readonly ham: number;
  /** Spam at or above the threshold. */
  readonly caught: number;
  /** Ham at or above the threshold. */
  readonly hamFlagged: number;
}

/**
 * Scores fitted by {@link learnScores}, as `mef train --scores` writes them: one score per rule,
 * one per Bayes probability band, scaled so that a message is spam at `threshold` (the
 * add-header threshold of the verdict model).
 */
export interface LearnedScores {
  readonly format: typeof SCORES_FORMAT;
  readonly threshold: number;
  readonly rules: Readonly<Record<string, number>>;
  /** Ascending by `from`; the first starts at 0. */
  readonly bayes: readonly BayesBand[];
  /** Classifier settings the bands belong to (the probabilities they were fitted on). */
  readonly classifier: ScoredClassifier;
  /** Largest share of validation ham the threshold was allowed to flag. */
  readonly maxHamRate: number;
  readonly trained: { readonly spam: number; readonly ham: number };
  readonly validation: ScoresValidation;
}

function bad(where: string, what: string): SpamError {
  return new SpamError('MEF_SPAM_SCORES', `Scores file ${where}: ${what}`);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks a parsed scores file; throws `MEF_SPAM_SCORES` naming what is wrong. */
export function parseScores(data: unknown, where = '(value)'): LearnedScores {
  if (typeof data !== 'object' || data === null) throw bad(where, 'expected a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== SCORES_FORMAT) {
    throw bad(where, `has format ${JSON.stringify(d.format)}, expected ${SCORES_FORMAT}`);
  }
  if (!finite(d.threshold) || d.threshold <= 0) throw bad(where, 'threshold: expected a positive number');
  const rules = d.rules as Record<string, unknown> | undefined;
  if (typeof rules !== 'object' || rules === null) throw bad(where, 'rules: expected an object');
  for (const [name, s] of Object.entries(rules)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || !finite(s)) throw bad(where, `rules.${name}: expected a number`);
  }
  const bands = d.bayes as unknown;
  if (!Array.isArray(bands)) throw bad(where, 'bayes: expected an array of bands');
  let last = -1;
  for (const b of bands as { from?: unknown; score?: unknown }[]) {
    if (!finite(b?.from) || !finite(b?.score) || b.from <= last || b.from < 0 || b.from >= 1) {
      throw bad(where, 'bayes: expected bands { from, score } with from ascending in [0, 1)');
    }
    last = b.from;
  }
  if (bands.length > 0 && (bands[0] as BayesBand).from !== 0)
    throw bad(where, 'bayes: the first band starts at 0');
  const c = d.classifier as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) throw bad(where, 'classifier: expected an object');
  for (const key of ['strength', 'maxDiscriminators', 'minDeviation', 'minCount']) {
    if (c[key] !== undefined && (!finite(c[key]) || (c[key] as number) < 0)) {
      throw bad(where, `classifier.${key}: expected a number of 0 or more`);
    }
  }
  return data as LearnedScores;
}

/** Reads and checks a scores file. */
export async function loadScores(path: string): Promise<LearnedScores> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SpamError('MEF_SPAM_SCORES', `Cannot read scores file ${path}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SpamError('MEF_SPAM_SCORES', `Scores file ${path} is not valid JSON`, { cause: err });
  }
  return parseScores(data, path);
}

/** Writes a scores file atomically (a temporary file, then a rename). */
export async function saveScores(path: string, scores: LearnedScores): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(scores, null, 2)}\n`);
  await rename(tmp, path);
}

/** The score of a Bayes probability under the bands (0 with no bands). */
export function bandScore(bands: readonly BayesBand[], p: number): number {
  let score = 0;
  for (const b of bands) {
    if (p >= b.from) score = b.score;
    else break;
  }
  return score;
}
