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

/** What {@link stopList} returns: the things a test set up, to stop last first. */
export interface StopList {
  /** Keeps `server` (anything with `stop()`) to be stopped by {@link StopList.stopAll}; returns it. */
  add<T extends { stop(): Promise<void> }>(server: T): T;
  /** Keeps `stop` (closing a listener, removing a folder) to be run by {@link StopList.stopAll}. */
  defer(stop: () => Promise<unknown>): void;
  /**
   * Runs every kept stop, the last added first, each even when an earlier one failed; then
   * throws the first failure, if any. The list is empty afterwards.
   */
  stopAll(): Promise<void>;
}

/**
 * A list of what a test started, stopped in reverse order in its `afterAll`:
 *
 * ```ts
 * const stops = stopList();
 * beforeAll(async () => { sink = stops.add(await startSink()); });
 * afterAll(() => stops.stopAll());
 * ```
 */
export function stopList(): StopList {
  const stops: (() => Promise<unknown>)[] = [];
  return {
    add(server) {
      stops.push(() => server.stop());
      return server;
    },
    defer(stop) {
      stops.push(stop);
    },
    async stopAll() {
      const failures: unknown[] = [];
      for (let stop = stops.pop(); stop; stop = stops.pop()) {
        await stop().catch((err: unknown) => failures.push(err));
      }
      if (failures.length) throw failures[0];
    },
  };
}
