import { type ErrorPolicy, invalidOption } from '@mef/core';

export function checkPolicy(name: string, v: unknown): ErrorPolicy | undefined {
  if (v === undefined) return undefined;
  if (v !== 'accept' && v !== 'tempfail' && v !== 'reject')
    throw invalidOption(name, v, "'accept', 'tempfail' or 'reject'");
  return v;
}

export function checkNumber(
  name: string,
  v: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalidOption(
      name,
      v,
      `a number from ${min}${max === Number.POSITIVE_INFINITY ? '' : ` to ${max}`}`,
    );
  }
  return v;
}

export function checkString(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalidOption(name, v, 'a non-empty string');
  return v;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
