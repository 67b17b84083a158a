import type { Server } from 'node:http';
import { createEngine, type Logger, type Plugin, type Thresholds } from '@mef/core';
import { networkList } from '@mef/plugin-rbl';
import pino from 'pino';
import { z } from 'zod';
import { ClientPool } from './client-pool.js';
import { type BuildFiltersOptions, buildFilters, type GroupedPlugin } from './filters.js';
import { filtersShape } from './filters-schema.js';
import { monitorRecord } from './monitor.js';
import { NextHop } from './next-hop.js';
import { metricsServer, RelayMetrics, type TransactionLog } from './operations.js';
import { RelayServer, type RelayServerOptions } from './relay-server.js';
import { relayStage, type ScannerGroup } from './relay-stage.js';
import { domainOf } from './replies.js';
import {
  type DomainSettingsSource,
  type RelaySection,
  relaySchema,
  staticDomains,
  type TransactionRecord,
} from './schema.js';
import type { RelayStats } from './session.js';
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
  /** Your own stages, run after the built-in filters. */
  stages?: readonly Plugin[];
  /** How the Bayes model file is found (see {@link BuildFiltersOptions}). */
  filters?: BuildFiltersOptions;
  /** pino-compatible logger for the engine. */
  logger?: Logger;
  /** Where the per-transaction line goes; default: pino on standard output when `relay.log` is set. */
  log?: TransactionLog;
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
  /** The parsed configuration in use. */
  readonly config: RelayConfig;
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

/**
 * Builds the filtering relay a configuration describes: the same filters as `mef scan`, per-domain
 * settings on top, and the relay's own stage (Received, loop guard, forged-header removal).
 */
export function createRelay(input: RelayConfigInput | RelayConfig, options: CreateRelayOptions = {}): Relay {
  const config = parseRelayConfig(input);
  const relay: RelaySection = config.relay;
  const domains = options.domainSettings ?? staticDomains(relay.domains);
  const built = buildFilters(config, options.filters);
  const plugins: GroupedPlugin[] = [
    ...built.plugins,
    ...(options.stages ?? []).map((plugin) => ({ plugin, group: 'other' as const })),
  ];
  const groups = new Map<ScannerGroup, string[]>();
  for (const p of plugins) {
    if (p.group === 'other') continue;
    groups.set(p.group, [...(groups.get(p.group) ?? []), p.plugin.name]);
  }
  const base = thresholdsOf(config);
  let server: RelayServer | undefined;
  const engine = createEngine({
    thresholds: base,
    ...(config.onError ? { onError: config.onError } : {}),
    ...(config.timeout ? { stageTimeout: config.timeout } : {}),
    ...(config.monitor !== undefined ? { monitor: config.monitor } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    limits: { maxMessageBytes: relay.maxMessageBytes },
    ...(relay.tempDir ? { store: { dir: relay.tempDir } } : {}),
    policy: (tx) => {
      // The settings of the domain this transaction was accepted for (one domain per transaction).
      const settings = server?.txSettings.get(tx.id)?.settings;
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
    relayStage({
      hostname: relay.hostname,
      settingsFor: (rcpt) => domains.get(domainOf(rcpt)),
      groups,
    }),
  );
  for (const p of plugins) engine.use(p.plugin);
  const metrics = new RelayMetrics(
    () => (server?.sessionCount ?? 0) + submission.reduce((n, [, x]) => n + x.sessionCount, 0),
  );
  const log: TransactionLog | undefined =
    options.log ?? (relay.log ? pino({ level: relay.log.level, base: { name: 'mef-relay' } }) : undefined);
  const onFinished: RelayServerOptions['onFinished'] = (record, times, verdict) => {
    metrics.record(record, times, verdict);
    // The log and the verdict log say what monitor mode let through (`would-reject`, ...).
    const logged = monitorRecord(record, verdict);
    log?.info({ ...logged, scanMs: times.scanMs, destinationMs: times.destinationMs }, 'transaction');
    options.onTransaction?.(logged);
  };
  const outboundNetworks = networkList(relay.outbound?.networks ?? []);
  const pool = new ClientPool();
  server = new RelayServer({ relay, engine, domains, outboundNetworks, onFinished, pool });
  const sub = relay.submission;
  const users = sub?.users ? new UsersFile(sub.users) : undefined;
  const next = sub?.mx ? { mx: new NextHop(sub.mx.dns, sub.mx.port) } : { smarthost: sub?.smarthost ?? '' };
  const submission = (sub?.listen ?? []).map(
    (l) =>
      [
        l,
        new RelayServer({
          relay,
          engine,
          domains,
          outboundNetworks,
          onFinished,
          pool,
          submission: {
            secure: l.secure,
            users,
            networks: networkList(sub?.networks ?? []),
            next,
          },
        }),
      ] as const,
  );
  const s = server;
  let ports: RelayPorts | undefined;
  let http: Server | undefined;
  return {
    async listen() {
      await engine.start();
      const smtp = await s.listen();
      ports = { smtp, submission: [] };
      for (const [l, srv] of submission) ports.submission.push(await srv.listen(l.port, l.host));
      if (relay.metrics) {
        const m = relay.metrics;
        const h = metricsServer(metrics, engine);
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
    async close() {
      const h = http;
      http = undefined;
      if (h) await new Promise<void>((resolve) => h.close(() => resolve()));
      await Promise.all([s.close(), ...submission.map(([, srv]) => srv.close())]);
      await pool.clear();
      await engine.stop();
    },
    metrics,
    get ports() {
      return ports;
    },
    stats: s.stats,
    config,
  };
}
