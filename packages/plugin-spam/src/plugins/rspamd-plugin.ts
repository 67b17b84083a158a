import { type Disposition, definePlugin, type ErrorPolicy, invalidOption, type Plugin } from '@mef/core';
import { RspamdClient, type RspamdClientOptions, type RspamdResult } from '../clients/rspamd-client.js';
import { CORE_RANGE } from '../core-range.js';
import { capUpload } from './capped.js';
import {
  checkEngineOptions,
  checkPrefix,
  pingHealth,
  recordFailure,
  round2,
  skipDeclaredOversize,
} from './common.js';

/** What an rspamd action turns into. `symbol` only records it; `tag` adds `X-Spam: Yes`. */
export type RspamdActionMapping = Disposition | 'greylist' | 'tag' | 'rewrite-subject' | 'symbol';

/** Options of {@link rspamd}. */
export interface RspamdOptions extends RspamdClientOptions {
  /** Largest message streamed, in bytes; a larger one is cut off and `RSPAMD_SKIPPED_SIZE` recorded. Default 10 MiB. */
  readonly maxSize?: number;
  /** Score of `RSPAMD_SKIPPED_SIZE`. Default 0. */
  readonly skippedScore?: number;
  /** Prefix for rspamd's symbol names. Default none. */
  readonly prefix?: string;
  /**
   * rspamd action -> what it becomes in the verdict. Defaults: `reject` -> reject,
   * `soft reject` -> tempfail, `greylist` -> greylist (tempfail), `add header` -> symbol (the
   * engine tags by score; `tag` adds `X-Spam: Yes` regardless of the engine's thresholds),
   * `rewrite subject` -> rewrite-subject, `no action` -> symbol; unknown (custom) actions -> symbol.
   * Set `forceActions: false` to let only the scores speak.
   */
  readonly actions?: Readonly<Record<string, RspamdActionMapping>>;
  /** Force dispositions from rspamd's action. Default true. */
  readonly forceActions?: boolean;
  /** Apply `milter.add_headers` and `remove_headers` from the reply. Default true. */
  readonly milterHeaders?: boolean;
  /** `Pass` header (`all` runs every filter even for local or authenticated mail). */
  readonly pass?: string;
  readonly name?: string;
  /** Default `accept`. */
  readonly onError?: ErrorPolicy;
}

/** The rspamd plugin, with its client beside it. */
export interface RspamdPlugin extends Plugin {
  readonly client: RspamdClient;
}

const DEFAULT_ACTIONS: Readonly<Record<string, RspamdActionMapping>> = Object.freeze({
  reject: 'reject',
  'soft reject': 'tempfail',
  greylist: 'greylist',
  // The score (rspamd's, carried over) reaches the engine's add-header threshold and the
  // engine adds `X-Spam: Yes` itself; tagging here as well would add the field twice.
  'add header': 'symbol',
  'rewrite subject': 'rewrite-subject',
  'no action': 'symbol',
  discard: 'discard',
  quarantine: 'quarantine',
});

/** rspamd's `/checkv2` as a plugin: symbols, score, action, milter headers and replies. */
export function rspamd(options: RspamdOptions = {}): RspamdPlugin {
  const { scanTimeout, maxSize, skippedScore, onError } = checkEngineOptions(options, 10 * 1024 * 1024);
  const prefix = checkPrefix(options.prefix, '');
  const allowed = new Set([
    'accept',
    'tempfail',
    'reject',
    'discard',
    'quarantine',
    'greylist',
    'tag',
    'rewrite-subject',
    'symbol',
  ]);
  for (const [k, v] of Object.entries(options.actions ?? {})) {
    if (!allowed.has(v)) throw invalidOption(`actions.${k}`, v, [...allowed].join(', '));
  }
  const actions = { ...DEFAULT_ACTIONS, ...options.actions };
  const forceActions = options.forceActions ?? true;
  const milterHeaders = options.milterHeaders ?? true;
  const client = new RspamdClient({ ...options, scanTimeout });
  const group = 'rspamd';

  return definePlugin({
    name: options.name ?? 'rspamd',
    core: CORE_RANGE,
    onError,
    stageTimeout: scanTimeout + 5_000,
    client,
    health: () => pingHealth(client),
    async message(ctx) {
      if (skipDeclaredOversize(ctx, 'RSPAMD_SKIPPED_SIZE', maxSize, skippedScore, group)) return;
      const raw = ctx.message.raw();
      const headersP = ctx.message.headers();
      headersP.catch(() => undefined);
      const upload = capUpload(raw, maxSize);
      const tx = ctx.tx;
      let result: RspamdResult;
      try {
        result = await client.check(
          upload.stream,
          {
            ip: tx.clientAddress,
            ...(tx.helo ? { helo: tx.helo } : {}),
            ...(tx.reverseName ? { hostname: tx.reverseName } : {}),
            ...(tx.mailFrom ? { from: tx.mailFrom.address } : {}),
            rcpt: tx.recipients.map((r) => r.address),
            queueId: tx.id,
            ...(tx.user ? { user: tx.user } : {}),
            ...(options.pass ? { pass: options.pass } : {}),
          },
          ctx.signal,
        );
      } catch (err) {
        // Keep the one pass flowing: whatever rspamd did, read the raw view to its end.
        await upload.settle();
        if (upload.stream.over) {
          ctx.findings.symbol('RSPAMD_SKIPPED_SIZE', skippedScore, {
            group,
            options: [`${upload.stream.size}+ > ${maxSize}`],
          });
          return;
        }
        recordFailure(ctx.findings, err, 'MEF_SPAM_RSPAMD_PROTOCOL');
        return;
      }
      await upload.settle();
      if (result.error !== undefined) {
        ctx.findings.error('protocol', 'MEF_SPAM_RSPAMD_PROTOCOL', `rspamd error: ${result.error}`);
        return;
      }
      let sum = 0;
      for (const s of result.symbols) {
        sum += s.score;
        ctx.findings.symbol(`${prefix}${s.name}`, round2(s.score), {
          group,
          options: s.options,
          ...(s.description ? { description: s.description } : {}),
        });
      }
      // rspamd's total can differ from the sum of its symbols (GTUBE, forced actions,
      // composites): one balancing symbol keeps the verdict's score equal to rspamd's.
      const adjust = round2(result.score - sum);
      if (adjust !== 0)
        ctx.findings.symbol('RSPAMD_SCORE_ADJUST', adjust, { group, options: [`${result.score}`] });
      ctx.findings.symbol('RSPAMD_ACTION', 0, {
        group,
        options: [result.action, `${result.score}/${result.requiredScore}`],
      });
      if (result.isSkipped) ctx.findings.symbol('RSPAMD_SKIPPED', 0, { group, options: [result.action] });

      if (milterHeaders) {
        const headers = await headersP.catch(() => undefined);
        // rspamd removes before it adds, so a header it replaces is not removed again.
        for (const r of result.removeHeaders) {
          if (r.index === 0) ctx.findings.removeHeader(r.name);
          else if (r.index > 0) ctx.findings.removeHeader(r.name, r.index);
          else {
            const count = headers ? headers.getAll(r.name).length : 0;
            const index = count + r.index + 1;
            if (index >= 1) ctx.findings.removeHeader(r.name, index);
          }
        }
        // rspamd's order: a position from 0 inserts there, none or a negative one appends.
        // The core's findings can only append (no insert-at-position or prepend yet), so
        // positioned fields are appended first, by position, then the others in reply order.
        const pos = (o: number | undefined) => (o === undefined || o < 0 ? Number.POSITIVE_INFINITY : o);
        const ordered = [...result.addHeaders].sort((a, b) => pos(a.order) - pos(b.order));
        for (const a of ordered) ctx.findings.addHeader(a.name, a.value);
      }

      if (!forceActions) return;
      const mapping = actions[result.action] ?? 'symbol';
      const text = result.smtpMessage;
      switch (mapping) {
        case 'reject':
          ctx.findings.reject(
            { code: 554, enhanced: '5.7.1', text: text ?? 'Message rejected as spam' },
            { reason: `rspamd: ${result.action}` },
          );
          break;
        case 'tempfail':
        case 'greylist':
          ctx.findings.tempfail(
            { code: 451, enhanced: '4.7.1', text: text ?? 'Try again later' },
            { reason: `rspamd: ${result.action}` },
          );
          break;
        case 'discard':
        case 'quarantine':
          ctx.findings.force(mapping, { reason: `rspamd: ${result.action}` });
          break;
        case 'tag':
          ctx.findings.addHeader('X-Spam', 'Yes');
          break;
        case 'rewrite-subject':
          if (result.subject) ctx.findings.setHeader('Subject', result.subject);
          else ctx.findings.prefixSubject('***SPAM***');
          break;
        case 'accept':
        case 'symbol':
          break;
      }
    },
  });
}
