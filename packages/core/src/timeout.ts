/** What {@link raceTimeout} resolves to when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * The one timeout race of the engine (a hook, the work left after the last byte, a stalled
 * reader of the pass, a health probe): resolves with `work`'s value, or with
 * {@link TIMED_OUT} when `ms` passed first. The timer is cleared either way; a rejection of
 * `work` passes through.
 */
export function raceTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}
