import { invalidOption } from '@mef/core';

/** What a detection does to the mail. `tag` only records the symbol and marks the headers. */
export type DetectionAction = 'reject' | 'quarantine' | 'tag';

export const ACTIONS: readonly DetectionAction[] = ['reject', 'quarantine', 'tag'];

export function checkEnum<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidOption(name, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

export function checkNumber(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalidOption(name, value, `a finite ${integer ? 'integer' : 'number'} >= ${min}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, value, 'a boolean');
  return value;
}

export function checkStrings(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw invalidOption(name, value, 'an array of non-empty strings');
  }
  return value as string[];
}

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
