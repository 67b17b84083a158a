import { checkNumber, definePlugin, type ErrorPolicy, invalidOption, type Plugin } from '@mef/core';
import { SpamdClient, type SpamdClientOptions } from '../clients/spamd-client.js';
import { CORE_RANGE } from '../core-range.js';
import { readCapped } from './capped.js';
import {
  checkEngineOptions,
  checkPrefix,
  pingHealth,
  recordFailure,
  round2,
  skipDeclaredOversize,
} from './common.js';

/** Options of {@link spamassassin}. */
export interface SpamassassinOptions extends SpamdClientOptions {
  /**
   * What to ask: `REPORT` (default: every rule with its score), `SYMBOLS` (rule names and the
   * total) or `CHECK` (the total only).
   */
  readonly command?: 'REPORT' | 'SYMBOLS' | 'CHECK';
  /** spamd user (`User:` header). */
  readonly user?: string;
  /**
   * Largest message sent, in bytes. spamd needs `Content-length` before the body, so the
   * message is held in a buffer of at most this size; a larger one is not sent and
   * `SPAMD_SKIPPED_SIZE` is recorded. Default 1 MiB.
   */
  readonly maxSize?: number;
  /** Score of `SPAMD_SKIPPED_SIZE`. Default 0 (the symbol is the trace; raise it to be strict). */
  readonly skippedScore?: number;
  /** Prefix of the rule symbols. Default `SA_`. */
  readonly prefix?: string;
  /** Score of `SA_SPAM`, recorded when spamd calls the message spam. Default 1. */
  readonly spamScore?: number;
  readonly name?: string;
  /** Default `accept`. */
  readonly onError?: ErrorPolicy;
}

/** The spamd plugin, with its client beside it. */
export interface SpamassassinPlugin extends Plugin {
  readonly client: SpamdClient;
}

/** SpamAssassin's spamd as a plugin: its rules become symbols, its verdict `SA_SPAM`. */
export function spamassassin(options: SpamassassinOptions = {}): SpamassassinPlugin {
  const command = options.command ?? 'REPORT';
  if (!['REPORT', 'SYMBOLS', 'CHECK'].includes(command)) {
    throw invalidOption('command', command, "'REPORT', 'SYMBOLS' or 'CHECK'");
  }
  const { scanTimeout, maxSize, skippedScore, onError } = checkEngineOptions(options, 1024 * 1024);
  const spamScore = checkNumber('spamScore', options.spamScore, { min: -1000, max: 1000 }) ?? 1;
  const prefix = checkPrefix(options.prefix, 'SA_');
  const client = new SpamdClient({ ...options, scanTimeout });
  const group = 'spamassassin';

  return definePlugin({
    name: options.name ?? 'spamassassin',
    core: CORE_RANGE,
    onError,
    // The engine's stage timeout covers buffering plus the exchange.
    stageTimeout: scanTimeout + 5_000,
    client,
    health: () => pingHealth(client),
    async message(ctx) {
      if (skipDeclaredOversize(ctx, 'SPAMD_SKIPPED_SIZE', maxSize, skippedScore, group)) return;
      const raw = ctx.message.raw();
      // A bounded buffer: spamd wants Content-length first. Past the cap, keep reading (the one
      // pass must go on) but drop what was held.
      const { bytes, size } = await readCapped(raw, maxSize);
      if (bytes === undefined) {
        ctx.findings.symbol('SPAMD_SKIPPED_SIZE', skippedScore, { group, options: [`${size} > ${maxSize}`] });
        return;
      }
      let result: Awaited<ReturnType<SpamdClient['scan']>>;
      try {
        result = await client.scan(command, bytes, {
          ...(options.user ? { user: options.user } : {}),
          signal: ctx.signal,
        });
      } catch (err) {
        recordFailure(ctx.findings, err, 'MEF_SPAM_SPAMD_PROTOCOL');
        return;
      }
      const summary = `${result.score}/${result.threshold}`;
      if (command === 'REPORT') {
        for (const r of result.rules) {
          ctx.findings.symbol(`${prefix}${r.name.toUpperCase()}`, round2(r.score), {
            group,
            description: r.description,
          });
        }
      } else {
        ctx.findings.symbol(`${prefix}SCORE`, round2(result.score), {
          group,
          options: command === 'SYMBOLS' ? [summary, ...result.symbols] : [summary],
        });
      }
      if (result.spam) ctx.findings.symbol(`${prefix}SPAM`, spamScore, { group, options: [summary] });
    },
  });
}
