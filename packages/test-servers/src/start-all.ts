import type { RunningServer } from './process.js';

/** What {@link startAll} resolves with: each starter's server under its key. */
export type Started<T extends Record<string, () => Promise<RunningServer>>> = {
  [K in keyof T]: Awaited<ReturnType<T[K]>>;
};

/**
 * Starts several servers at once. When one fails, the others that did start are stopped before
 * the first error is thrown, so a failed set-up leaves no process behind.
 */
export async function startAll<T extends Record<string, () => Promise<RunningServer>>>(
  starters: T,
): Promise<Started<T>> {
  const keys = Object.keys(starters);
  const results = await Promise.allSettled(keys.map((k) => (starters[k] as () => Promise<RunningServer>)()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(
      results.map((r) => (r.status === 'fulfilled' ? r.value.stop().catch(() => undefined) : undefined)),
    );
    throw failed.reason;
  }
  const out: Record<string, RunningServer> = {};
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') out[keys[i] as string] = r.value;
  });
  return out as Started<T>;
}
