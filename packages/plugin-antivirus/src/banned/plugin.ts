import {
  definePlugin,
  type MessageContext,
  type MimeReadingsReport,
  mimeReadings,
  type Plugin,
} from '@mef/core';
import { CORE_RANGE } from '../core-range.js';
import { enforce } from '../detection.js';
import { examineAttachment, type Hit } from './examine.js';
import {
  type BannedAttachmentsOptions,
  type BannedSettings,
  type BannedSymbol,
  bannedSettings,
} from './options.js';

/**
 * The banned-attachment policy that mail gateways (amavisd-new, MailScanner) are known for:
 * rules by file name, declared MIME type and real type (magic bytes), applied to attachments
 * and to the members of archives (zip, gzip, tar, 7z, rar, TNEF), with limits against archive bombs.
 */
export function bannedAttachments(options: BannedAttachmentsOptions = {}): Plugin {
  const settings: BannedSettings = bannedSettings(options);
  const { action, encryptedAction, bombAction, scores, skipAuthenticated, skipOutbound } = settings;

  function message(ctx: MessageContext): Promise<void> | undefined {
    const { tx } = ctx;
    if ((skipAuthenticated && tx.user !== undefined) || (skipOutbound && tx.direction === 'outbound'))
      return undefined;
    const hits: Hit[] = [];
    const readings = mimeReadings(ctx.message);
    ctx.message.parts({}, (part) => {
      // Inline text without a name carries no attachment.
      if (
        part.filename === undefined &&
        /^text\/(plain|html)$/.test(part.contentType) &&
        part.disposition !== 'attachment'
      ) {
        part.skip();
        return;
      }
      // Core offers a part of another reading only when its name, type or bytes differ from
      // every part offered before: each part is examined once.
      return examineAttachment(part, () => part.content, settings, hits);
    });
    // ended() resolves once every part handler above (other readings' parts included) has settled.
    return ctx.message.ended().then(async () => decide(ctx, hits, await readings));
  }

  function decide(ctx: MessageContext, hits: Hit[], readings: MimeReadingsReport): void {
    if (readings.kinds.length) {
      ctx.findings.symbol('MIME_AMBIGUOUS', scores.MIME_AMBIGUOUS, {
        group: 'attachments',
        options: [...readings.kinds],
        description: 'the message can be read more than one way',
      });
    }
    const by = new Map<BannedSymbol, string[]>();
    for (const h of hits) {
      const list = by.get(h.symbol) ?? [];
      if (!list.includes(h.detail)) list.push(h.detail);
      by.set(h.symbol, list);
    }
    for (const [symbol, details] of by) {
      ctx.findings.symbol(symbol, scores[symbol], { group: 'attachments', options: details.slice(0, 20) });
    }
    const banned = (
      ['BANNED_DOUBLE_EXTENSION', 'BANNED_REAL_TYPE', 'BANNED_EXTENSION', 'BANNED_MIME_TYPE'] as const
    ).flatMap((s) => by.get(s) ?? []);
    const bombs = by.get('ARCHIVE_BOMB') ?? [];
    const encrypted = by.get('ARCHIVE_ENCRYPTED') ?? [];
    if (banned.length) enforce(ctx, action, `Banned attachment: ${banned[0]}`);
    if (bombs.length) enforce(ctx, bombAction, `Archive over the limits: ${bombs[0]}`);
    if (encrypted.length) enforce(ctx, encryptedAction, `Encrypted archive: ${encrypted[0]}`);
  }

  return definePlugin({
    name: settings.name,
    core: CORE_RANGE,
    // A broken archive is a finding, not a failure: only a bug ends up here.
    onError: 'tempfail',
    message,
  });
}
