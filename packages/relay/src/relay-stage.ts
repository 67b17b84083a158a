import type { Plugin } from '@mef/core';
import type { DomainSettings } from './schema.js';

/** The scanner groups a domain can switch off. */
export type ScannerGroup = 'antivirus' | 'spam' | 'rbl' | 'greylist';

/** What the relay keeps on a transaction for its own stage. */
export interface RelayTxState {
  /** Recipients the destination accepted. */
  accepted: string[];
  /** Received fields counted in the message. */
  hops: number;
  /** The session is encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
  /** The client authenticated (SMTP AUTH). */
  authenticated: boolean;
  /** The message's Message-ID field, for the verdict log. */
  messageId?: string;
  /** What monitor mode let through at RCPT (a recipient the filters would have refused). */
  wouldBe?: string;
}

declare module '@mef/core' {
  interface TransactionState {
    mefRelay?: RelayTxState;
  }
}

/** Our own headers, and the spam and virus verdict headers a sender could forge. */
const TRUSTED_HEADER = /^(x-mef-.*|x-spam(-.*)?|x-virus-status)$/i;

export interface RelayPluginOptions {
  hostname: string;
  /** The settings of a recipient's domain (inbound), or undefined. */
  settingsFor: (recipient: string) => DomainSettings | undefined;
  /** Stage names of each scanner group, for the per-domain switches. */
  groups: ReadonlyMap<ScannerGroup, readonly string[]>;
}

function matchesSender(sender: string, list: readonly string[] | undefined): boolean {
  if (!list?.length || !sender) return false;
  const s = sender.toLowerCase();
  const domain = s.slice(s.lastIndexOf('@'));
  return list.some((e) => {
    const x = e.toLowerCase();
    return x.startsWith('@') ? x === domain : x === s;
  });
}

function clean(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '').slice(0, 255) || 'unknown';
}

/** The last date written, by its second: the relay writes many in the same second. */
let lastDate = { second: Number.NaN, text: '' };

function rfc5322Date(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== lastDate.second)
    lastDate = { second, text: new Date(now).toUTCString().replace(/GMT$/, '+0000') };
  return lastDate.text;
}

/**
 * The relay's own plugin, registered as the first stage: applies a domain's scanner switches and sender lists at
 * RCPT, and on the message counts the `Received` hops (a loop guard), removes the sender's copies
 * of our verdict headers (`X-MEF-*`, `X-Spam*`, `X-Virus-Status`, as rspamd and amavisd do), and
 * adds the relay's own `Received` field.
 */
export function relayPlugin(options: RelayPluginOptions): Plugin {
  return {
    name: 'mef-relay',
    priority: -1000,
    onError: 'tempfail',
    rcptTo(ctx) {
      const settings = options.settingsFor(ctx.recipient.address);
      if (!settings) return;
      const sender = ctx.tx.mailFrom?.address ?? '';
      if (matchesSender(sender, settings.senders?.block)) {
        ctx.findings.reject({ code: 554, enhanced: '5.7.1', text: 'Sender blocked by the recipient domain' });
        return;
      }
      const off = new Set<ScannerGroup>();
      for (const g of ['antivirus', 'spam', 'rbl', 'greylist'] as const) {
        if (settings.scanners?.[g] === false) off.add(g);
      }
      if (matchesSender(sender, settings.senders?.allow)) {
        off.add('spam');
        off.add('rbl');
        off.add('greylist');
        ctx.findings.symbol('MEF_SENDER_ALLOWED', 0);
      }
      for (const g of off) {
        for (const stage of options.groups.get(g) ?? []) ctx.findings.skip(stage, `domain settings (${g})`);
      }
    },
    async message(ctx) {
      const headers = await ctx.message.headers();
      const state = ctx.state.mefRelay;
      const counts = new Map<string, number>();
      const remove: { name: string; index: number }[] = [];
      let hops = 0;
      for (const f of headers.fields) {
        const lower = f.name.toLowerCase();
        const n = (counts.get(lower) ?? 0) + 1;
        counts.set(lower, n);
        if (lower === 'received') hops++;
        if (ctx.tx.direction === 'inbound' && TRUSTED_HEADER.test(f.name))
          remove.push({ name: f.name, index: n });
      }
      if (state) state.hops = hops;
      const messageId = headers.get('message-id')?.slice(0, 998);
      if (state && messageId) state.messageId = messageId;
      // Last first, so that removing one does not move the index of the next.
      for (const r of remove.reverse()) ctx.findings.removeHeader(r.name, r.index);
      if (remove.length)
        ctx.findings.symbol('MEF_FORGED_HEADERS', 0, { options: [...new Set(remove.map((r) => r.name))] });
      const tls = ctx.tx.tls || state?.secure ? 'S' : '';
      const auth = ctx.tx.user || state?.authenticated ? 'A' : '';
      const accepted = state?.accepted ?? [];
      const rdns = ctx.tx.reverseName ? clean(ctx.tx.reverseName) : 'unknown';
      ctx.findings.prependHeader(
        'Received',
        `from ${clean(ctx.tx.helo ?? 'unknown')} (${rdns} [${ctx.tx.clientAddress}])\r\n\tby ${options.hostname} with ESMTP${tls}${auth} id ${ctx.tx.id}${
          accepted.length === 1 ? `\r\n\tfor <${accepted[0]}>` : ''
        }; ${rfc5322Date()}`,
      );
    },
  };
}
