import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type HealthResult, type Logger, networkList, type Plugin, type Thresholds } from '@mef/core';
import { createEngine, type Engine, type ThreadPool } from '@mef/core/hosts';
import pino from 'pino';
import { z } from 'zod';
import { ClientPool } from './client-pool.js';
import { type BuildPluginsOptions, buildPlugins, type GroupedPlugin } from './filters.js';
import { filtersShape } from './filters-schema.js';
import { monitorRecord } from './monitor.js';
import { NextHop } from './next-hop.js';
import { metricsServer, RelayMetrics, type TransactionLog } from './operations.js';
import { RelayServer, type RelayServerOptions, type SubmissionMode } from './relay-server.js';
import { relayPlugin, type ScannerGroup } from './relay-stage.js';
import { domainOf } from './replies.js';
import { healthOnly, messageOnly, threadStage } from './scan-threads.js';
import {
  type DomainSettingsSource,
  type RelaySection,
  relaySchema,
  staticDomains,
  type TransactionRecord,
} from './schema.js';
import type { RelayStats, Route } from './session.js';
import { UsersFile } from './users.js';

/**
 * The relay's configuration: the filter keys of the config file (the same as `mef scan`'s) and
 * the `relay:` section. Other top-level keys (`envelope`, `concurrency`) belong to other commands
 * and are ignored here.
 */
export const relayConfigSchema = z.object({ ...filtersShape, relay: relaySchema });
export type RelayConfig = z.infer<typeof relayConfigSchema>;
export type RelayConfigInput = z.input<typeof relayConfigSchema>;

export interface CreateRelayOptions {
  /** Overrides `relay.domains` of the file, asked for every transaction. */
  domainSettings?: DomainSettingsSource;
  /** Called once per finished transaction, with metadata only. */
  onTransaction?: (record: TransactionRecord) => void;
  /** Your own plugins, run after the ones the `filters` section describes. */
  plugins?: readonly Plugin[];
  /** How the Bayes model file is found (see {@link BuildPluginsOptions}). */
  filters?: BuildPluginsOptions;
  /** pino-compatible logger for the engine. */
  logger?: Logger;
  /** Where the per-transaction line goes; default: pino on standard output when `relay.log` is set. */
  log?: TransactionLog;
  /**
   * Starts the worker threads for a configuration's message phase (`relay.threads`; `mef relay`
   * passes one that runs its own binary, whose threads call `serveRelayThread`), or returns
   * undefined for none. Called for each configuration (a reload too); used only when every
   * filter acts on the message alone and `plugins` is empty. The relay stops the pool.
   */
  threads?: (config: RelayConfig) => ThreadPool | undefined;
}

/** The ports the relay listens on (the real ones when the config asked for port 0). */
export interface RelayPorts {
  smtp: number;
  /** The submission listeners' ports, in the order of `relay.submission.listen`. */
  submission: number[];
  /** The metrics and health port, when `relay.metrics` is set. */
  metrics?: number;
}

/** A running (or ready) relay. */
export interface Relay {
  /** Starts the scanners and the listener. */
  listen(): Promise<RelayPorts>;
  /** Graceful stop: transactions in flight finish, new connections get 421. */
  close(): Promise<void>;
  /** The bound ports, after `listen()`. */
  readonly ports: RelayPorts | undefined;
  readonly stats: RelayStats;
  /** The Prometheus metrics (also served on `relay.metrics`). */
  readonly metrics: RelayMetrics;
  /**
   * How many worker threads run the filters' message stages now (`relay.threads`); 0: they run
   * on the event loop.
   */
  readonly threads: number;
  /** The scanners' health checks (what `/healthz` serves). */
  health(): Promise<Record<string, HealthResult>>;
  /** The parsed configuration in use (the reloaded one after {@link Relay.reload}). */
  readonly config: RelayConfig;
  /**
   * Applies a new configuration without a restart (what `mef relay` does on SIGHUP): filters,
   * thresholds, limits, domains, outbound and submission settings. New sessions use it; open
   * sessions finish on the configuration they started with. A bad configuration, or scanners
   * that do not start, throw and leave the running one in place. Resolves with the keys that
   * changed but need a restart (`relay.listen`, `relay.submission.listen`, `relay.metrics`).
   */
  reload(input: RelayConfigInput | RelayConfig): Promise<string[]>;
}

/** Parses a configuration; a bad one throws a TypeError naming the key path, the expectation and the value. */
export function parseRelayConfig(input: unknown): RelayConfig {
  const r = relayConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.join('.') || '(top level)';
  let found: unknown = input;
  for (const k of issue.path) found = (found as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey];
  throw new TypeError(
    `Invalid relay configuration at ${path}: ${issue.message}; found ${JSON.stringify(found)}`,
  );
}

function thresholdsOf(config: RelayConfig): Thresholds {
  const t = config.thresholds ?? {};
  return {
    reject: t.reject !== undefined ? t.reject : 15,
    addHeader: t.addHeader !== undefined ? t.addHeader : 6,
    greylist: t.greylist !== undefined ? t.greylist : 4,
  };
}

/** Everything built from one configuration; a reload builds the next one beside it. */
interface Generation {
  config: RelayConfig;
  engine: Engine;
  main: Omit<RelayServerOptions, 'pool' | 'onFinished'>;
  submission: SubmissionMode | undefined;
  log: TransactionLog | undefined;
  /** The worker threads of the message phase, when `relay.threads` asks for them. */
  pool: ThreadPool | undefined;
}

/** Stops an engine and the threads of its generation. */
async function stopGeneration(engine: Engine, pool: ThreadPool | undefined): Promise<void> {
  await Promise.all([engine.stop(), pool?.stop()]);
}

function buildGeneration(
  config: RelayConfig,
  options: CreateRelayOptions,
  txSettings: (id: string) => Route | undefined,
): Generation {
  const relay: RelaySection = config.relay;
  const domains = options.domainSettings ?? staticDomains(relay.domains);
  const built = buildPlugins(config, {
    ...options.filters,
    // The lists' refusal always waits for RCPT in the engine; at connect the relay gives it
    // itself, only while no domain is in monitor mode (see `refuseListedAtConnect`).
    ...(relay.dnsLists ? { dnsListsAt: 'rcpt' as const } : {}),
  });
  const plugins: GroupedPlugin[] = [
    ...built.plugins,
    ...(options.plugins ?? []).map((plugin) => ({ plugin, group: 'other' as const })),
  ];
  const groups = new Map<ScannerGroup, string[]>();
  for (const p of plugins) {
    if (p.group === 'other') continue;
    groups.set(p.group, [...(groups.get(p.group) ?? []), p.plugin.name]);
  }
  const base = thresholdsOf(config);
  const engine = createEngine({
    thresholds: base,
    ...(config.onError ? { onError: config.onError } : {}),
    ...(config.stageTimeout ? { stageTimeout: config.stageTimeout } : {}),
    ...(config.monitor !== undefined ? { monitor: config.monitor } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    limits: { maxMessageBytes: relay.maxMessageBytes },
    ...(relay.tempDir ? { store: { dir: relay.tempDir } } : {}),
    policy: (tx) => {
      // The settings of the domain this transaction was accepted for (one domain per transaction).
      const settings = txSettings(tx.id)?.settings;
      if (!settings) return undefined;
      const t = settings.thresholds ?? {};
      return {
        ...(settings.monitor !== undefined ? { monitor: settings.monitor } : {}),
        thresholds: {
          reject: t.reject !== undefined ? t.reject : base.reject,
          addHeader: t.addHeader !== undefined ? t.addHeader : base.addHeader,
          greylist: t.greylist !== undefined ? t.greylist : base.greylist,
        },
      };
    },
  });
  engine.use(
    relayPlugin({ hostname: relay.hostname, settingsFor: (rcpt) => domains.get(domainOf(rcpt)), groups }),
  );
  // The filters' message stages in threads, when they act on the message alone.
  const pool = !options.plugins?.length && messageOnly(plugins) ? options.threads?.(config) : undefined;
  if (pool) {
    for (const p of plugins) engine.use(healthOnly(p.plugin));
    engine.use(threadStage(pool, config.stageTimeout ?? 30_000));
  } else for (const p of plugins) engine.use(p.plugin);
  const sub = relay.submission;
  const outboundNetworks = networkList(relay.outbound?.networks ?? []);
  return {
    config,
    engine,
    main: {
      relay,
      engine,
      domains,
      outboundNetworks,
      // At connect no recipient domain is known: refusing there would override the monitor mode
      // of a domain the client may be sending to.
      refuseListedAtConnect: () =>
        relay.dnsLists?.at === 'connect' && config.monitor !== true && domains.anyMonitored?.() === false,
      ...(relay.destinationTls ? { destinationCa: readFileSync(relay.destinationTls.ca) } : {}),
    },
    submission: sub
      ? {
          secure: false,
          users: sub.users ? new UsersFile(sub.users) : undefined,
          networks: networkList(sub.networks),
          next: sub.mx ? { mx: new NextHop(sub.mx.dns, sub.mx.port) } : { smarthost: sub.smarthost ?? '' },
        }
      : undefined,
    log: options.log ?? (relay.log ? transactionLog(relay.log.level) : undefined),
    pool,
  };
}

/**
 * pino on standard output, written asynchronously (the event loop never waits for the pipe);
 * the process id tells the lines of `mef relay`'s workers apart. Lines are gathered and written
 * together once 4 KB wait, and at least every 200 ms: one write per line was one system call
 * per message on the hot path.
 */
function transactionLog(level: NonNullable<RelaySection['log']>['level']): pino.Logger {
  return pino(
    { level, base: { name: 'mef-relay', pid: process.pid } },
    pino.destination({ sync: false, minLength: 4096, periodicFlush: 200 }),
  );
}

/** Writes out what an asynchronous log still holds. */
function flushLog(log: TransactionLog | undefined): Promise<void> {
  const flush = (log as Partial<pino.Logger> | undefined)?.flush;
  if (typeof flush !== 'function') return Promise.resolve();
  return new Promise((resolve) => flush.call(log, () => resolve()));
}

/** The keys whose change a reload cannot apply (the sockets are bound). */
function restartKeys(a: RelaySection, b: RelaySection): string[] {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const keys: string[] = [];
  if (!same(a.listen, b.listen)) keys.push('relay.listen');
  if (!same(a.submission?.listen, b.submission?.listen)) keys.push('relay.submission.listen');
  if (!same(a.metrics, b.metrics)) keys.push('relay.metrics');
  return keys;
}

/**
 * Builds the filtering relay a configuration describes: the same filters as `mef scan`, per-domain
 * settings on top, and the relay's own stage (Received, loop guard, forged-header removal).
 */
export function createRelay(input: RelayConfigInput | RelayConfig, options: CreateRelayOptions = {}): Relay {
  let server: RelayServer | undefined;
  const txSettings = (id: string) => server?.txSettings.get(id);
  let gen = buildGeneration(parseRelayConfig(input), options, txSettings);
  const metrics = new RelayMetrics(
    () => (server?.sessionCount ?? 0) + submission.reduce((n, [, x]) => n + x.sessionCount, 0),
  );
  const onFinished: RelayServerOptions['onFinished'] = (record, times, verdict) => {
    metrics.record(record, times, verdict);
    // The log and the verdict log say what monitor mode let through (`would-reject`, ...).
    const logged = monitorRecord(record, verdict);
    gen.log?.info(
      {
        ...logged,
        scanMs: times.scanMs,
        afterLastByteMs: times.afterLastByteMs,
        destinationMs: times.destinationMs,
        ...(times.stages ? { stages: times.stages } : {}),
      },
      'transaction',
    );
    options.onTransaction?.(logged);
  };
  const pool = new ClientPool();
  const shared = { pool, onFinished };
  const mainOptions = (g: Generation): RelayServerOptions => ({ ...g.main, ...shared });
  // A submission listener stays one until a restart, even when a reload drops the section.
  let subMode = gen.submission;
  const subOptions = (g: Generation, secure: boolean): RelayServerOptions => {
    subMode = g.submission ?? subMode;
    return { ...mainOptions(g), ...(subMode ? { submission: { ...subMode, secure } } : {}) };
  };
  server = new RelayServer(mainOptions(gen));
  const submission = (gen.config.relay.submission?.listen ?? []).map(
    (l) => [l, new RelayServer(subOptions(gen, l.secure))] as const,
  );
  const s = server;
  const servers = () => [s, ...submission.map(([, x]) => x)];
  /** Engines replaced by a reload (with their threads), stopped once no open session uses them. */
  const retired = new Map<Engine, ThreadPool | undefined>();
  const retire = (engine: Engine, threads: ThreadPool | undefined) => {
    retired.set(engine, threads);
    const deadline = Date.now() + gen.config.relay.limits.sessionTime + gen.config.relay.limits.drainTime;
    const timer = setInterval(() => {
      if (servers().some((x) => x.sessionsOn(engine) > 0) && Date.now() < deadline) return;
      clearInterval(timer);
      if (retired.delete(engine)) void stopGeneration(engine, threads).catch(() => undefined);
    }, 250);
    timer.unref();
  };
  let ports: RelayPorts | undefined;
  let http: Server | undefined;
  return {
    async listen() {
      await gen.engine.start();
      const smtp = await s.listen();
      ports = { smtp, submission: [] };
      for (const [l, srv] of submission) ports.submission.push(await srv.listen(l.port, l.host));
      if (gen.config.relay.metrics) {
        const m = gen.config.relay.metrics;
        const h = metricsServer(metrics, () => gen.engine);
        http = h;
        await new Promise<void>((resolve, reject) => {
          h.once('error', reject);
          h.listen(m.port, m.host, () => resolve());
        });
        const addr = h.address();
        ports.metrics = typeof addr === 'object' && addr ? addr.port : m.port;
      }
      return ports;
    },
    async reload(next) {
      const config = parseRelayConfig(next);
      const fresh = buildGeneration(config, options, txSettings);
      if (ports)
        await fresh.engine.start().catch(async (err: unknown) => {
          await fresh.pool?.stop();
          throw err;
        });
      const old = gen;
      gen = fresh;
      s.reconfigure(mainOptions(fresh));
      for (const [l, srv] of submission) srv.reconfigure(subOptions(fresh, l.secure));
      if (ports) retire(old.engine, old.pool);
      else void old.pool?.stop();
      if (old.log !== fresh.log) void flushLog(old.log);
      return restartKeys(old.config.relay, config.relay);
    },
    async close() {
      const h = http;
      http = undefined;
      if (h) await new Promise<void>((resolve) => h.close(() => resolve()));
      await Promise.all(servers().map((x) => x.close()));
      await pool.clear();
      await Promise.all([[gen.engine, gen.pool] as const, ...retired].map(([e, t]) => stopGeneration(e, t)));
      retired.clear();
      await flushLog(gen.log);
    },
    metrics,
    health: () => gen.engine.health(),
    get threads() {
      return gen.pool?.size ?? 0;
    },
    get ports() {
      return ports;
    },
    stats: s.stats,
    get config() {
      return gen.config;
    },
  };
}
