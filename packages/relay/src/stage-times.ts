import type { Plugin } from '@mef/core';

/** The hooks timed per transaction (the connection's own hooks belong to no transaction). */
const HOOKS = ['mailFrom', 'rcptTo', 'message', 'scored'] as const;
type Hook = (typeof HOOKS)[number];

/** The most transactions whose times are kept before the oldest are dropped (bounded memory). */
const MAX_OPEN = 10_000;

/**
 * Each stage's time on each transaction, for the per-transaction log line. The engine does not
 * record stage times itself, so the relay wraps every stage it runs: the wall time of each hook
 * call (start to settle) is added up by stage name and transaction id, and taken once when the
 * transaction is logged. A message stage runs while the data streams in: its time includes the
 * upload, and stages of one pass overlap.
 */
export class StageClock {
  private readonly open = new Map<string, Record<string, number>>();

  /** The stage with its transaction hooks timed; everything else is the stage's own. */
  wrap(plugin: Plugin): Plugin {
    const timed: Plugin = Object.assign(
      Object.create(Object.getPrototypeOf(plugin) as object) as Plugin,
      plugin,
    );
    for (const hook of HOOKS) {
      const fn = plugin[hook] as ((ctx: { tx: { id: string } }) => unknown) | undefined;
      if (typeof fn !== 'function') continue;
      (timed as unknown as Record<Hook, (ctx: { tx: { id: string } }) => unknown>)[hook] = (ctx) => {
        const t0 = performance.now();
        const done = () => this.add(ctx.tx.id, plugin.name, performance.now() - t0);
        const r = fn.call(plugin, ctx);
        if (r && typeof (r as Promise<void>).then === 'function') return (r as Promise<void>).finally(done);
        done();
        return r;
      };
    }
    return timed;
  }

  private add(txId: string, stage: string, ms: number): void {
    let t = this.open.get(txId);
    if (!t) {
      if (this.open.size >= MAX_OPEN) {
        const oldest = this.open.keys().next().value;
        if (oldest !== undefined) this.open.delete(oldest);
      }
      t = Object.create(null) as Record<string, number>;
      this.open.set(txId, t);
    }
    t[stage] = (t[stage] ?? 0) + ms;
  }

  /** The times of a transaction (ms by stage, rounded to 0.01), forgotten once taken. */
  take(txId: string): Record<string, number> | undefined {
    const t = this.open.get(txId);
    if (!t) return undefined;
    this.open.delete(txId);
    for (const k of Object.keys(t)) t[k] = Math.round((t[k] as number) * 100) / 100;
    return t;
  }
}
