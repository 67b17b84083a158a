import { PLUGIN_NAME } from '../engine/registration.js';
import { invalidOption } from '../errors.js';
import type { ErrorPolicy } from '../verdict.js';

/**
 * Option checkers for plugin factories. Each returns the value when it is valid, `undefined`
 * when it was not given (the caller picks the default with `??`), and throws the core's
 * `MEF_CORE_INVALID_OPTION` TypeError naming the option, what was expected and what came.
 *
 * ```ts
 * const queryTimeout = checkNumber('queryTimeout', options.queryTimeout, { min: 1, integer: true }) ?? 5000;
 * ```
 */

/** Bounds for {@link checkNumber}. */
export interface NumberRule {
  /** Smallest allowed value (default 0). */
  min?: number;
  /** Largest allowed value (default: none). */
  max?: number;
  /** Only whole numbers. */
  integer?: boolean;
}

/** A finite number within the rule's bounds. */
export function checkNumber(name: string, value: unknown, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const min = rule.min ?? 0;
  const max = rule.max ?? Number.POSITIVE_INFINITY;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (rule.integer === true && !Number.isInteger(value))
  ) {
    const kind = rule.integer === true ? 'an integer' : 'a number';
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidOption(name, value, `${kind} ${range}`);
  }
  return value;
}

/** One of the allowed strings. */
export function checkEnum<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidOption(name, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** A boolean. */
export function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidOption(name, value, 'a boolean');
  return value;
}

/** A non-empty string. */
export function checkString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalidOption(name, value, 'a non-empty string');
  return value;
}

/** An array of non-empty strings. */
export function checkStrings(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw invalidOption(name, value, 'an array of non-empty strings');
  }
  return value as string[];
}

const POLICIES: readonly ErrorPolicy[] = ['accept', 'tempfail', 'reject'];

/** What a stage's failure does to the mail: `'accept'`, `'tempfail'` or `'reject'`. */
export function checkErrorPolicy(name: string, value: unknown): ErrorPolicy | undefined {
  return checkEnum(name, value, POLICIES);
}

/** A plugin name following {@link PLUGIN_NAME}; `fallback` when none was given. */
export function checkPluginName(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !PLUGIN_NAME.test(value)) {
    throw invalidOption('name', value, 'a plugin name of lower-case letters, digits and hyphens');
  }
  return value;
}
