/** Parsers of command-line option values: a bad value is a usage error naming what was expected. */
import { InvalidArgumentError } from 'commander';

export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive whole number, found "${value}"`);
  }
  return n;
}

/** The most worker threads `--workers` starts: each holds an engine (about 35 MB) and its scanners. */
export const MAX_WORKERS = 16;

export function workerCount(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_WORKERS)
    throw new InvalidArgumentError(`expected at most ${MAX_WORKERS} workers, found "${value}"`);
  return n;
}

export function extensions(value: string): string[] {
  const list = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => (e.startsWith('.') ? e : `.${e}`));
  if (!list.length)
    throw new InvalidArgumentError(`expected extensions such as ".eml,.txt", found "${value}"`);
  return list;
}

export const EXT_HELP =
  'inside directories, only files ending with these extensions (comma-separated, such as .eml,.txt)';

export function share(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a share between 0 and 1, found "${value}"`);
  return n;
}
