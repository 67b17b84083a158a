import type { Disposition, Verdict } from '../verdict.js';
import { formatVerdict } from './expect.js';

/**
 * What the stage must produce on a suite's message: the disposition, the symbols, or both.
 * The suites assert it in every mode and shape, so a stage that does nothing cannot pass.
 */
export interface StreamExpectation {
  disposition?: Disposition;
  /** Symbols that must be in the verdict (others may be there too). */
  symbols?: readonly string[];
}

/** Throws a TypeError when an expectation expects nothing. */
export function checkExpectation(suite: string, e: StreamExpectation | undefined): void {
  if (!e || (e.disposition === undefined && !e.symbols?.length)) {
    throw new TypeError(
      `${suite} needs options.expect with a disposition or symbols, got ${JSON.stringify(e)}: a suite that expects nothing passes a stage that does nothing`,
    );
  }
}

/** Throws when the verdict misses the expectation or any stage recorded an error. */
export function meets(v: Verdict, e: StreamExpectation, mode: string): void {
  const problems: string[] = [];
  if (e.disposition !== undefined && v.disposition !== e.disposition) {
    problems.push(`disposition ${v.disposition}, expected ${e.disposition}`);
  }
  for (const name of e.symbols ?? []) {
    if (!v.symbols.some((s) => s.name === name)) problems.push(`symbol ${name} missing`);
  }
  for (const err of v.errors) problems.push(`stage ${err.stage} recorded error ${err.code}: ${err.message}`);
  if (problems.length) {
    throw new Error(`${mode}: ${problems.join('; ')}\n${formatVerdict(v)}`);
  }
}
