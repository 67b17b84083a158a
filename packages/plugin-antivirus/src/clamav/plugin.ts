import { definePlugin, type MessageContext, type Plugin } from '@mef/core';
import { ClamdClient } from '../clamd/client.js';
import { CORE_RANGE } from '../core-range.js';
import { type DetectionAction, enforce, oneLine } from '../detection.js';
import { AntivirusError } from '../errors.js';
import { type ClamavOptions, type ClamavSettings, clamavSettings } from './options.js';
import { type Detection, type ScanOutcome, scanMessage } from './scan.js';

/**
 * The ClamAV plugin: streams the message (and/or each decoded MIME part) to clamd with
 * `zINSTREAM` while the engine's one pass flows, and records CLAMAV_* symbols.
 */
export function clamav(options: ClamavOptions = {}): Plugin & { readonly client: ClamdClient } {
  const settings = clamavSettings(options);
  const client = new ClamdClient({
    hosts: settings.hosts,
    connectTimeout: settings.connectTimeout,
    scanTimeout: settings.scanTimeout,
    chunkSize: settings.chunkSize,
    keepAlive: settings.keepAlive,
    idleTimeout: settings.idleTimeout,
    keepAliveMax: Math.max(8, settings.maxConnections),
  });
  const findings = new ClamavFindings(settings, settings.scannedHeader ?? 'MEF ClamAV');

  async function message(ctx: MessageContext): Promise<void> {
    const { tx } = ctx;
    if (
      (settings.skipAuthenticated && tx.user !== undefined) ||
      (settings.skipOutbound && tx.direction === 'outbound')
    )
      return;
    const declared = Number(tx.mailFrom?.params.SIZE);
    if (Number.isFinite(declared) && declared > settings.maxSize) {
      // The client declared the size: no need to read anything.
      findings.tooLarge(ctx, `declared SIZE ${declared} > ${settings.maxSize}`);
      return;
    }
    findings.record(ctx, await scanMessage(ctx, client, settings));
  }

  return Object.assign(
    definePlugin({
      name: settings.name,
      core: CORE_RANGE,
      onError: settings.onError,
      ...(settings.stageTimeout !== undefined ? { stageTimeout: settings.stageTimeout } : {}),
      async setup(ctx) {
        if (settings.scannedHeader !== undefined) return;
        // The version only decorates a header: never hold the engine's start for it.
        const lookup = client.version().then(
          (v) => {
            findings.scannedHeader = `MEF ClamAV (${oneLine(v.split('/')[0] ?? v)})`;
          },
          (err: unknown) => {
            ctx.log.warn(
              { err, hosts: settings.hosts.length },
              'clamd did not answer VERSION at setup; scanning will retry',
            );
          },
        );
        await Promise.race([
          lookup,
          new Promise<void>((r) => setTimeout(r, Math.min(settings.connectTimeout, 1000) + 500).unref()),
        ]);
      },
      async teardown() {
        await client.close();
      },
      async health() {
        try {
          await client.ping();
          return { ok: true, detail: 'clamd answered PONG' };
        } catch (err) {
          return { ok: false, detail: (err as Error).message };
        }
      },
      message,
    }),
    { client },
  );
}

/** Turns a scan's outcome into symbols, a disposition and the X-Virus-* headers. */
class ClamavFindings {
  constructor(
    private readonly settings: ClamavSettings,
    /** The X-Virus-Scanned value; set from clamd's version at setup unless the options gave one. */
    public scannedHeader: string,
  ) {}

  record(ctx: MessageContext, outcome: ScanOutcome): void {
    const { settings } = this;
    const viruses = outcome.detections.filter((d) => !d.heuristic);
    const heuristics = outcome.detections.filter((d) => d.heuristic);
    if (viruses.length > 0) {
      const names = this.symbol(ctx, 'CLAMAV_VIRUS', viruses, 'clamd found a virus');
      this.act(ctx, settings.action, `Virus found: ${names}`, `Infected (${names})`);
    }
    if (heuristics.length > 0) {
      const names = this.symbol(ctx, 'CLAMAV_HEURISTIC', heuristics, 'clamd heuristic detection');
      if (viruses.length === 0) {
        const action = settings.heuristicActionFor(heuristics.map((d) => d.name));
        this.act(ctx, action, `Suspicious content: ${names}`, `Suspicious (${names})`);
      }
    }
    if (outcome.oversize) {
      this.tooLarge(ctx, `larger than ${settings.maxSize} bytes`);
      return;
    }
    const failure = outcome.failures[0];
    if (failure && outcome.detections.length === 0) {
      ctx.findings.symbol('CLAMAV_FAIL', settings.scores.CLAMAV_FAIL, {
        group: 'antivirus',
        options: [failure.code],
        description: failure.message,
      });
      recordError(ctx, failure);
      return;
    }
    if (outcome.detections.length === 0 && settings.headers) this.statusHeaders(ctx, 'Clean');
  }

  /** Records a detection symbol with the names and places; returns the names as one string. */
  private symbol(
    ctx: MessageContext,
    symbol: 'CLAMAV_VIRUS' | 'CLAMAV_HEURISTIC',
    detections: readonly Detection[],
    description: string,
  ): string {
    const names = [...new Set(detections.map((d) => d.name))];
    ctx.findings.symbol(symbol, this.settings.scores[symbol], {
      group: 'antivirus',
      options: [...names, ...new Set(detections.map((d) => d.where))],
      description,
    });
    return names.join(', ');
  }

  private act(ctx: MessageContext, action: DetectionAction, reason: string, status: string): void {
    enforce(ctx, action, reason);
    if (action !== 'reject' && this.settings.headers) this.statusHeaders(ctx, status);
  }

  private statusHeaders(ctx: MessageContext, status: string): void {
    ctx.findings.addHeader('X-Virus-Scanned', this.scannedHeader);
    ctx.findings.addHeader('X-Virus-Status', oneLine(status));
  }

  /** A message over `maxSize`, as the `oversize` option says. */
  tooLarge(ctx: MessageContext, detail: string): void {
    const { oversize, scores, headers } = this.settings;
    if (oversize === 'tempfail') {
      recordError(
        ctx,
        new AntivirusError('MEF_AV_SIZE_LIMIT', `Message not scanned for viruses: ${detail}`, {
          kind: 'limit',
        }),
      );
      ctx.findings.tempfail(
        { code: 452, enhanced: '4.3.4', text: 'Message too large to scan for viruses, try again later' },
        { reason: `clamav: ${detail}` },
      );
    } else if (oversize === 'reject') {
      ctx.findings.reject(
        { code: 552, enhanced: '5.3.4', text: 'Message too large to scan for viruses' },
        { reason: `clamav: ${detail}` },
      );
    } else {
      ctx.findings.symbol('CLAMAV_SKIPPED_SIZE', scores.CLAMAV_SKIPPED_SIZE, {
        group: 'antivirus',
        options: [detail],
        description: 'message too large for the virus scan',
      });
      if (headers) ctx.findings.addHeader('X-Virus-Status', 'Unscanned (too large)');
    }
  }
}

/**
 * The one place this package records a stage error. The error carries its kind, so nothing
 * is worked out from the code; once `findings.error()` takes a `MefError`, this becomes
 * `ctx.findings.error(err)`.
 */
function recordError(ctx: MessageContext, err: AntivirusError): void {
  ctx.findings.error(err.kind, err.code, err.message);
}
