/**
 * What the two plugins of this package share: the action a detection takes, the symbol-score
 * option, and the one-line form of text that goes into a reply or a header.
 */
import { invalidOption, type MessageContext } from '@mef/core';

/** What a detection does to the mail. `tag` only records the symbol and marks the headers. */
export type DetectionAction = 'reject' | 'quarantine' | 'tag';

/** The detection actions, most severe first. */
export const DETECTION_ACTIONS: readonly DetectionAction[] = ['reject', 'quarantine', 'tag'];

/** The most severe of the actions, or `fallback` when there is none. */
export function mostSevere(actions: readonly DetectionAction[], fallback: DetectionAction): DetectionAction {
  return DETECTION_ACTIONS.find((a) => actions.includes(a)) ?? fallback;
}

/** Text made safe for one line of a reply or a header: no CR, LF or NUL, at most 200 characters. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\0]+/g, ' ').slice(0, 200);
}

/** Rejects (554 5.7.1) or quarantines with the reason `text`; `tag` does nothing here. */
export function enforce(ctx: MessageContext, action: DetectionAction, text: string): void {
  const line = oneLine(text);
  if (action === 'reject')
    ctx.findings.reject({ code: 554, enhanced: '5.7.1', text: line }, { reason: line });
  else if (action === 'quarantine') ctx.findings.force('quarantine', { reason: line });
}

/**
 * The `scores` option: an object of symbol to score over `defaults`. An unknown symbol or a
 * score that is not a finite number throws the core's invalid-option TypeError.
 */
export function checkScores<K extends string>(
  name: string,
  value: unknown,
  defaults: Readonly<Record<K, number>>,
): Readonly<Record<K, number>> {
  if (value === undefined) return defaults;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(name, value, `an object of symbol scores (${Object.keys(defaults).join(', ')})`);
  }
  const out: Record<K, number> = { ...defaults };
  for (const [k, v] of Object.entries(value)) {
    if (!(k in defaults))
      throw invalidOption(`${name}.${k}`, v, `one of the symbols ${Object.keys(defaults).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw invalidOption(`${name}.${k}`, v, 'a finite number');
    out[k as K] = v;
  }
  return out;
}
