import {
  checkErrorPolicy,
  checkNumber,
  checkString,
  type ErrorPolicy,
  type Findings,
  type HealthResult,
  invalidOption,
  type StageContext,
  type StageErrorKind,
} from '@mef/core';
import { SpamError } from '../errors.js';

/** Records a client failure as an error finding; the stage's onError policy decides. */
export function recordFailure(findings: Findings, err: unknown, fallbackCode: string): void {
  if (err instanceof SpamError) {
    const kind: StageErrorKind = err.code.endsWith('_TIMEOUT')
      ? 'timeout'
      : err.code.endsWith('_UNAVAILABLE')
        ? 'unavailable'
        : 'protocol';
    findings.error(kind, err.code, err.message);
    return;
  }
  findings.error('exception', fallbackCode, err instanceof Error ? err.message : String(err));
}

/** The SIZE the client declared at MAIL FROM, when it did. */
export function declaredSize(
  params: Readonly<Record<string, string | true>> | undefined,
): number | undefined {
  const v = params?.SIZE;
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** A health check that pings an external engine. */
export async function pingHealth(client: { ping(): Promise<unknown> }): Promise<HealthResult> {
  try {
    await client.ping();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: String(err) };
  }
}

/**
 * When MAIL FROM declared a SIZE over the cap, records the skip symbol (a cap never lets a
 * message through silently) and returns true: the stage then asks for no view at all.
 */
export function skipDeclaredOversize(
  ctx: StageContext,
  symbol: string,
  maxSize: number,
  score: number,
  group: string,
): boolean {
  const declared = declaredSize(ctx.tx.mailFrom?.params);
  if (declared === undefined || declared <= maxSize) return false;
  ctx.findings.symbol(symbol, score, { group, options: [`declared ${declared} > ${maxSize}`] });
  return true;
}

/** A score rounded to two decimals, as the engines report them. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A symbol prefix: UPPER_SNAKE text, possibly empty; `fallback` when none was given. */
export function checkPrefix(value: unknown, fallback: string): string {
  const prefix = value ?? fallback;
  if (typeof prefix !== 'string' || !/^[A-Z0-9_]*$/.test(prefix)) {
    throw invalidOption('prefix', prefix, 'UPPER_SNAKE text');
  }
  return prefix;
}

/** The options the spamd and rspamd stages share. */
export interface EngineStageOptions {
  readonly host?: string;
  readonly port?: number;
  /** Wait for the scanner to take the message and answer, ms. Default 30,000. */
  readonly scanTimeout?: number;
  readonly maxSize?: number;
  readonly skippedScore?: number;
  readonly onError?: ErrorPolicy;
}

/** Checks the options shared by the spamd and rspamd stages and fills in their defaults. */
export function checkEngineOptions(
  options: EngineStageOptions,
  defaultMaxSize: number,
): { scanTimeout: number; maxSize: number; skippedScore: number; onError: ErrorPolicy } {
  checkNumber('port', options.port, { min: 1, max: 65535, integer: true });
  checkString('host', options.host);
  return {
    scanTimeout: checkNumber('scanTimeout', options.scanTimeout, { min: 1 }) ?? 30_000,
    maxSize: checkNumber('maxSize', options.maxSize, { min: 1 }) ?? defaultMaxSize,
    skippedScore: checkNumber('skippedScore', options.skippedScore, { min: -1000, max: 1000 }) ?? 0,
    onError: checkErrorPolicy('onError', options.onError) ?? 'accept',
  };
}
