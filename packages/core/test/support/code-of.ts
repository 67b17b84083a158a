import type { MefError } from '../../src/index.js';

/** The `code` of the error `fn` throws, or undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as MefError).code;
  }
  return undefined;
}
