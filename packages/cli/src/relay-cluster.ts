/**
 * `mef relay` as several processes (node:cluster): the primary forks `relay.workers` copies of
 * the same command, which share the listening sockets. `relay.scheduling` says who spreads the
 * connections: `kernel` (the default): every worker accepts from the shared socket itself, so a
 * worker that is free takes the next connection; `round-robin`: the primary accepts each
 * connection and hands it to the next worker in turn over IPC. Each worker is a whole relay: it
 * scans, delivers and answers the sender itself, so the no-storage rule holds in each. The primary passes SIGHUP on as a reload
 * and waits for every worker's answer, stops them all on SIGTERM (each drains its transactions in
 * flight), starts a new worker when one dies, and serves `/metrics` and `/healthz` for all.
 * With the admin database, the primary alone reads and writes it (see `relay-cluster-store.ts`).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { RelayLink } from '@mef/admin';
import { clusterMetricsServer, type Relay, type WorkerReport } from '@mef/relay';
import { ConfigError } from './config.js';
import type { Io } from './program.js';
import {
  type StoreFromWorker,
  type StoreHub,
  type StoreLink,
  type StoreToWorker,
  sendTo,
  storeHub,
  workerStoreLink,
} from './relay-cluster-store.js';

/** What the primary sends a worker. */
type ToWorker =
  | { type: 'reload'; id: number }
  | { type: 'report'; id: number }
  | { type: 'stop' }
  | StoreToWorker;

/** What a worker sends the primary. */
type FromWorker =
  | { type: 'listening'; text: string }
  | { type: 'reloaded'; id: number; ok: boolean; text: string }
  | { type: 'report'; id: number; report: WorkerReport };

/** How a relay process tells what happened, and is told to reload and stop. */
export interface RelayChannel {
  /** The relay listens; `text` is the line for standard error. */
  listening(text: string): void;
  /** Calls `reload` on each reload request; it resolves with the line to report and whether it applied. */
  onReload(reload: () => Promise<{ ok: boolean; text: string }>): void;
  /** Answers the primary's requests for metrics and health (workers only). */
  serveReports(relay: Relay): void;
  /** Resolves when the relay should stop. */
  stopped(): Promise<void>;
  /** Stops listening for requests. */
  close(): void;
}

/** The channel of `mef relay` as one process: standard error and signals. */
export function processChannel(io: Io): RelayChannel {
  let onHup: (() => void) | undefined;
  return {
    listening: (text) => io.stderr(text),
    onReload(reload) {
      // One reload at a time, in the order the signals came.
      let reloading: Promise<void> = Promise.resolve();
      onHup = () => {
        reloading = reloading.then(async () => io.stderr((await reload()).text));
      };
      process.on('SIGHUP', onHup);
    },
    serveReports() {},
    stopped: () => stopSignal(),
    close() {
      if (onHup) process.off('SIGHUP', onHup);
    },
  };
}

function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

function send(msg: FromWorker | StoreFromWorker): void {
  // The primary may be gone (the worker then stops): a message it cannot hear is dropped.
  if (process.connected) process.send?.(msg, undefined, undefined, () => undefined);
}

/** A worker's channel: {@link RelayChannel} and the admin store as the primary shares it. */
export interface WorkerChannel extends RelayChannel {
  /** The store's settings from the primary, and the verdict log through it (resolves once in force). */
  storeLink(): Promise<StoreLink>;
}

/** The channel of a worker: messages to and from the primary. */
export function workerChannel(): WorkerChannel {
  const handlers: ((msg: ToWorker) => void)[] = [];
  const onMessage = (msg: ToWorker) => {
    for (const h of handlers) h(msg);
  };
  process.on('message', onMessage);
  // The primary decides about reloads; a hangup of the terminal must not end a worker.
  const ignoreHup = () => undefined;
  process.on('SIGHUP', ignoreHup);
  return {
    listening: (text) => send({ type: 'listening', text }),
    storeLink: () => workerStoreLink((h) => handlers.push(h), send),
    onReload(reload) {
      let reloading: Promise<void> = Promise.resolve();
      handlers.push((msg) => {
        if (msg.type !== 'reload') return;
        reloading = reloading.then(async () => send({ type: 'reloaded', id: msg.id, ...(await reload()) }));
      });
    },
    serveReports(relay) {
      handlers.push((msg) => {
        if (msg.type !== 'report') return;
        void Promise.all([relay.metrics.registry.getMetricsAsJSON(), relay.health()]).then(
          ([metrics, health]) => send({ type: 'report', id: msg.id, report: { metrics, health } }),
          () => send({ type: 'report', id: msg.id, report: { metrics: [], health: {} } }),
        );
      });
    },
    stopped: () =>
      new Promise<void>((resolve) => {
        handlers.push((msg) => {
          if (msg.type === 'stop') resolve();
        });
        void stopSignal().then(resolve);
        // The primary is gone (killed): stop rather than hold the port on its own.
        process.once('disconnect', () => resolve());
      }),
    close() {
      process.off('message', onMessage);
      process.off('SIGHUP', ignoreHup);
    },
  };
}

export interface PrimaryOptions {
  workers: number;
  /** Who spreads the connections over the workers (`relay.scheduling`). */
  scheduling: 'kernel' | 'round-robin';
  io: Io;
  /** Checks the file again before a reload is passed on; throws when it is bad. */
  check: () => Promise<void>;
  /** Where the primary serves `/metrics` and `/healthz` for every worker. */
  metrics: { host: string; port: number } | undefined;
  /** How long a worker may take to finish its transactions when stopped, ms. */
  drainTime: number;
  /** The admin store, opened by the primary and shared with the workers (closed by the caller). */
  store?: RelayLink;
}

/**
 * Runs the primary until SIGTERM or SIGINT; resolves with the exit code once every worker has
 * stopped (1 when workers kept exiting).
 */
export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const { io } = o;
  const live = new Set<Worker>();
  const pending = new Map<number, (msg: FromWorker) => void>();
  let nextId = 1;
  let stopping = false;
  const restarts: number[] = [];
  let failed: ((err: Error) => void) | undefined;
  const code = 0;
  let giveUp: () => void = () => undefined;
  const gaveUp = new Promise<void>((resolve) => {
    giveUp = resolve;
  });

  const hub: StoreHub | undefined = o.store ? storeHub(o.store, io, () => live) : undefined;
  // Read by node:cluster when the first worker is forked; the setting, not
  // NODE_CLUSTER_SCHED_POLICY, decides.
  cluster.schedulingPolicy = o.scheduling === 'kernel' ? cluster.SCHED_NONE : cluster.SCHED_RR;

  const ask = <T extends FromWorker>(w: Worker, msg: ToWorker & { id: number }, timeout: number) =>
    new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(msg.id);
        resolve(undefined);
      }, timeout);
      pending.set(msg.id, (reply) => {
        clearTimeout(timer);
        pending.delete(msg.id);
        resolve(reply as T);
      });
      sendTo(w, msg);
    });

  const fork = (onListening?: (text: string) => void): Worker => {
    const w = cluster.fork();
    live.add(w);
    w.on('message', (msg: FromWorker | StoreFromWorker) => {
      if (hub?.handle(w, msg)) return;
      if (msg.type === 'listening') onListening?.(msg.text);
      else if ('id' in msg) pending.get(msg.id)?.(msg);
    });
    w.on('exit', (code, signal) => {
      live.delete(w);
      hub?.exited(w);
      if (stopping) return;
      const why = signal ?? `code ${code}`;
      if (failed) {
        failed(new ConfigError(`could not start: a worker exited (${why})`));
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && (restarts[0] as number) < now - 60_000) restarts.shift();
      if (restarts.length > 2 * o.workers) {
        io.stderr(`mef relay: workers keep exiting (last: ${why}); stopping\n`);
        code = 1;
        giveUp();
        return;
      }
      io.stderr(`mef relay: worker ${w.process.pid} exited (${why}); starting another\n`);
      const next: Worker = fork(() =>
        io.stderr(`mef relay: worker ${next.process.pid} listening in place of ${w.process.pid}\n`),
      );
    });
    return w;
  };

  // Start every worker; the first failure stops the others.
  const started = await new Promise<string>((resolve, reject) => {
    let ready = 0;
    failed = (err) => {
      stopping = true;
      for (const x of live) x.kill('SIGKILL');
      reject(err);
    };
    for (let i = 0; i < o.workers; i++)
      fork((text) => {
        if (++ready === o.workers) resolve(text);
      });
  });
  failed = undefined;

  let http: Server | undefined;
  let served = '';
  if (o.metrics) {
    const m = o.metrics;
    const collect = async () => {
      const replies = await Promise.all(
        [...live].map((w) =>
          ask<Extract<FromWorker, { type: 'report' }>>(w, { type: 'report', id: nextId++ }, 10_000),
        ),
      );
      return replies.flatMap((r) => (r ? [r.report] : []));
    };
    const h = clusterMetricsServer(collect);
    http = h;
    await new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(m.port, m.host, () => resolve());
    });
    const addr = h.address();
    served = `; metrics on http://${m.host}:${typeof addr === 'object' && addr ? addr.port : m.port}`;
  }
  io.stderr(`${started.trimEnd()} (${o.workers} workers, ${o.scheduling} scheduling${served})\n`);

  let reloading: Promise<void> = Promise.resolve();
  const onHup = () => {
    reloading = reloading.then(async () => {
      try {
        await o.check();
      } catch (err) {
        io.stderr(
          `mef relay: reload refused, keeping the running configuration: ${(err as Error).message}\n`,
        );
        return;
      }
      const replies = await Promise.all(
        [...live].map((w) =>
          ask<Extract<FromWorker, { type: 'reloaded' }>>(w, { type: 'reload', id: nextId++ }, 120_000),
        ),
      );
      const bad = replies.find((r) => !r?.ok);
      if (bad) io.stderr(bad.text);
      else if (!replies.length || !replies[0]) io.stderr('mef relay: reload: no worker answered\n');
      else io.stderr(`${replies[0].text.trimEnd()} (${replies.length} workers)\n`);
    });
  };
  process.on('SIGHUP', onHup);
  await Promise.race([stopSignal(), gaveUp]);
  process.off('SIGHUP', onHup);
  await reloading;
  stopping = true;
  io.stderr('mef relay: stopping (transactions in flight finish first)\n');
  // A worker's last messages (its verdict-log records) may still be in the pipe when its exit is
  // seen: wait for its channel to close too, once they are all read.
  const exited = [...live].map(
    (w) =>
      new Promise<void>((resolve) => {
        let waiting = w.isConnected() ? 2 : 1;
        const done = () => {
          if (--waiting === 0) resolve();
        };
        w.once('exit', done);
        if (waiting === 2) w.once('disconnect', done);
      }),
  );
  for (const w of live) sendTo(w, { type: 'stop' } satisfies ToWorker);
  const timer = setTimeout(() => {
    for (const w of live) w.kill('SIGKILL');
  }, o.drainTime + 10_000);
  await Promise.all(exited);
  clearTimeout(timer);
  hub?.close();
  const h = http;
  if (h) await new Promise<void>((resolve) => h.close(() => resolve()));
  return code;
}
