/** The plugin's thread pool (core's `ThreadPool`) and where its worker file is. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadPool } from '@mef/core/hosts';

/**
 * The worker's file beside this bundle (`worker.cjs` or `worker.js` in `dist`); from the
 * sources (`src`, as the tests import them), the built one in `../dist`.
 */
function workerFile(): string {
  const dir = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const name = typeof __dirname === 'string' ? 'worker.cjs' : 'worker.js';
  const file = [join(dir, name), join(dir, '..', 'dist', name)].find((f) => existsSync(f));
  if (!file)
    throw new Error(`haraka-plugin-mef: threads need the built plugin (${join(dir, name)} is missing)`);
  return file;
}

/** One pool per process and setting: Haraka may load (and register) a plugin more than once. */
let shared: { key: string; pool: ThreadPool } | undefined;

/** The pool of `size` threads for `config` (the raw `config/mef.yaml`), made once per process. */
export function poolFor(size: number, config: unknown): ThreadPool {
  const key = JSON.stringify([size, config]);
  if (shared?.key !== key) {
    void shared?.pool.stop();
    shared = { key, pool: new ThreadPool({ size, file: workerFile(), workerData: { config } }) };
  }
  return shared.pool;
}

/** Stops `pool` (and forgets it when it is the shared one). */
export function stopPool(pool: ThreadPool): void {
  if (shared?.pool === pool) shared = undefined;
  void pool.stop();
}
