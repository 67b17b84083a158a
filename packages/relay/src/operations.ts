import { createServer, type Server } from 'node:http';
import type { HealthResult, StageTimings, Verdict } from '@mef/core';
import type { Engine } from '@mef/core/hosts';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransactionRecord } from './schema.js';

/** Times of one transaction, ms. */
export interface TransactionTimes {
  /** From the first byte of DATA to the verdict. */
  scanMs: number;
  /**
   * From the last byte of the message to the verdict: what the scan adds to the sender's wait
   * (the rest of the scan ran while the message streamed in). 0 when the message never ended.
   */
  afterLastByteMs: number;
  /** From the verdict to the destination's answer. */
  destinationMs: number;
  /**
   * Each stage's time on this transaction, ms by phase and stage name: the verdict's `timings`
   * as the engine recorded them (a message stage's time is what it added after the last byte).
   */
  stages?: StageTimings;
}

/** A pino-compatible line logger. */
export interface TransactionLog {
  info(obj: object, msg?: string): void;
}

/**
 * Prometheus metrics of one relay, in a registry of its own (two relays in one process do not
 * share counters): transactions by outcome, scan and destination latency, scanner errors.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  private readonly transactions = new Counter({
    name: 'mef_relay_transactions_total',
    help: 'Finished transactions by outcome (the disposition the sender heard)',
    labelNames: ['outcome', 'direction'],
    registers: [this.registry],
  });
  private readonly scan = new Histogram({
    name: 'mef_relay_scan_seconds',
    help: 'Time from the first byte of DATA to the verdict',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly destination = new Histogram({
    name: 'mef_relay_destination_seconds',
    help: 'Time from the verdict to the destination answer',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly scannerErrors = new Counter({
    name: 'mef_relay_scanner_errors_total',
    help: 'Stage failures (timeout, unavailable, protocol...) by stage',
    labelNames: ['stage', 'kind'],
    registers: [this.registry],
  });

  constructor(sessionCount: () => number) {
    new Gauge({
      name: 'mef_relay_sessions',
      help: 'Open SMTP sessions',
      registers: [this.registry],
      collect() {
        this.set(sessionCount());
      },
    });
  }

  record(r: TransactionRecord, times: TransactionTimes, verdict: Verdict | undefined): void {
    this.transactions.inc({ outcome: r.disposition, direction: r.direction });
    this.scan.observe(times.scanMs / 1000);
    if (r.destinationReply) this.destination.observe(times.destinationMs / 1000);
    for (const e of verdict?.errors ?? []) this.scannerErrors.inc({ stage: e.stage, kind: e.kind });
  }
}

/** What one relay process reports to the primary of `mef relay` for `/metrics` and `/healthz`. */
export interface WorkerReport {
  /** `relay.metrics.registry.getMetricsAsJSON()`. */
  metrics: unknown[];
  /** `relay.health()`. */
  health: Record<string, HealthResult>;
}

/** `/metrics` (Prometheus text) and `/healthz` (the scanners' health: 200 when all are up, else 503). */
export function metricsServer(metrics: RelayMetrics, engine: () => Engine): Server {
  return httpServer(
    async () => ({ text: await metrics.registry.metrics(), type: metrics.registry.contentType }),
    () => engine().health(),
  );
}

/**
 * `/metrics` and `/healthz` of several relay processes (the workers of `mef relay`), served by
 * one of them: `collect` asks every worker for its report. Counters and histograms are summed
 * (prom-client's cluster aggregation); the health is 200 only when every worker's scanners are up,
 * and names each scanner that is down in any worker.
 */
export function clusterMetricsServer(collect: () => Promise<WorkerReport[]>): Server {
  return httpServer(
    async () => {
      const reg = AggregatorRegistry.aggregate(
        (await collect()).map((r) => r.metrics) as Parameters<typeof AggregatorRegistry.aggregate>[0],
      );
      return { text: await reg.metrics(), type: reg.contentType };
    },
    async () => {
      const out: Record<string, HealthResult> = {};
      for (const r of await collect())
        for (const [name, h] of Object.entries(r.health)) if (!out[name] || !h.ok) out[name] = h;
      return out;
    },
  );
}

function httpServer(
  metrics: () => Promise<{ text: string; type: string }>,
  health: () => Promise<Record<string, HealthResult>>,
): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      metrics().then(
        (m) => res.writeHead(200, { 'content-type': m.type }).end(m.text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (path === '/healthz') {
      health().then(
        (h) => {
          const ok = Object.values(h).every((x) => x.ok);
          res
            .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok, scanners: h }));
        },
        (err: Error) =>
          res
            .writeHead(503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: false, error: err.message })),
      );
      return;
    }
    res.writeHead(404).end();
  });
}
