/**
 * HeaderEval's forged-Received checks for mail that claims to come from Hotmail or Yahoo
 * (`check_for_forged_hotmail_received_headers`, `check_for_no_hotmail_received_headers`,
 * `check_for_forged_yahoo_received_headers`), the most-hit of the Received checks under spamd
 * on the 2002 corpus spam. IPv4 literals only, as the mail of that corpus carries.
 */
import type { EvalFn, SaEvalContext } from './eval-types.js';
import { hasNoReverseDns } from './received.js';

const IP = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// SpamAssassin's IP_PRIVATE for IPv4 (Constants.pm), the CGN 100.64/10 included.
const IPV4_PRIVATE =
  /^(?:10|127|169\.254|172\.(?:1[6-9]|2\d|3[01])|192\.168|100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7]))\./;
const DOTCOM_HELO =
  /(?:\.|^)(?:lycos\.com|lycos\.co\.uk|hotmail\.com|localhost\.com|excite\.com|caramail\.com|cs\.com|aol\.com|msn\.com|yahoo\.com|drizzle\.com)$/i;

function header(ctx: SaEvalContext, name: string): string | undefined {
  const v = ctx.message.get(name);
  return v.length ? v.join('') : undefined;
}

/** Received headers joined, every run of whitespace one space. */
function received(ctx: SaEvalContext, name = 'Received'): string {
  return (header(ctx, name) ?? '').replace(/\s+/g, ' ');
}

function gatedThroughReceivedRemover(ctx: SaEvalContext): boolean {
  const list = header(ctx, 'Mailing-List');
  if (list !== undefined && /^contact \S+@\S+; run by ezmlm$/m.test(list)) {
    const dlto = header(ctx, 'Delivered-To') ?? '';
    const rcvd = header(ctx, 'Received') ?? '';
    if (
      /^mailing list \S+@\S+/m.test(dlto) &&
      /qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+/.test(rcvd)
    )
      return true;
  }
  const rcvd = header(ctx, 'Received');
  if (rcvd === undefined) return true;
  return /from groups\.msn\.com \(\S+\.msn\.com /.test(rcvd);
}

function msnGroups(ctx: SaEvalContext): boolean {
  const list = /<(\S+)@groups\.msn\.com>/i.exec(header(ctx, 'To') ?? '')?.[1];
  if (!list) return false;
  const server = /from mail pickup service by ((?:p\d\d\.)groups\.msn\.com)\b/.exec(
    header(ctx, 'Received') ?? '',
  )?.[1];
  if (!server) return false;
  const id = header(ctx, 'Message-Id') ?? '';
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (list === 'notifications') return new RegExp(`^<\\S+@${esc(server)}>`).test(id);
  if (!new RegExp(`^<${esc(list)}-\\S+@groups\\.msn\\.com>`).test(id)) return false;
  const env = ctx.message.get('EnvelopeFrom')[0] ?? '';
  return new RegExp(`${esc(list)}-bounce@groups\\.msn\\.com`).test(env);
}

/** 1: a Hotmail Received line that Hotmail did not write; 2: a Hotmail From with no Hotmail hop; 0: neither. */
function hotmail(ctx: SaEvalContext): 0 | 1 | 2 {
  const rcvd = received(ctx);
  if (/from mail pickup service by hotmail\.com with Microsoft SMTPSVC;/.test(rcvd)) return 0;
  if (msnGroups(ctx)) return 0;
  const ipHeader = header(ctx, 'X-Originating-Ip');
  const origHeader = header(ctx, 'X-OriginatorOrg');
  const ip = ipHeader !== undefined && new RegExp(IP).test(ipHeader);
  const orig = origHeader !== undefined && /hotmail\.com|msonline-outlook/.test(origHeader);
  if (gatedThroughReceivedRemover(ctx)) return 0;
  if (ip && /from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ )]/.test(rcvd)) return 0;
  if (
    orig &&
    /from \S*\.outbound\.protection\.outlook\.com \(\S+\.outbound\.protection\.outlook\.com[ )]/.test(rcvd)
  )
    return 0;
  if (orig && new RegExp(String.raw`from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \(${IP}\)`).test(rcvd))
    return 0;
  if (ip && new RegExp(String.raw`from \S*\.hotmail.com \(\[${IP}\][ ):]`).test(rcvd)) return 0;
  if (ip && /from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP;/.test(rcvd)) return 0;
  if (ip && /from \[66\.218.\S+\] by \S+\.yahoo\.com/.test(rcvd)) return 0;
  if (/(?:from |HELO |helo=)\S*hotmail\.com\b/.test(rcvd)) return 1;
  const from = ctx.message.get('From:addr')[0] ?? '';
  return /\bhotmail\.com$/i.test(from) ? 2 : 0;
}

/** The functions, by name. */
export const RECEIVED_EVALS: Readonly<Record<string, EvalFn>> = {
  // RelayEval: an untrusted relay that said HELO with a public IPv4 address outside the /24
  // of the public address it connected from.
  helo_ip_mismatch(ctx) {
    for (const r of ctx.message.relays().untrusted) {
      if (!IPV4.test(r.helo) || IPV4_PRIVATE.test(r.helo)) continue;
      const net = /^(\d+\.\d+\.\d+\.)/.exec(r.helo)?.[1] as string;
      if (IPV4.test(r.ip) && !IPV4_PRIVATE.test(r.ip) && r.helo !== r.ip && !r.ip.startsWith(net)) return 1;
    }
    return 0;
  },
  // RelayEval: a big-freemail HELO from a host with no reverse DNS. As in SpamAssassin the
  // last public untrusted relay decides (the flag is reset at each one).
  check_for_no_rdns_dotcom_helo(ctx) {
    let hit = 0;
    for (const r of ctx.message.relays().untrusted) {
      if (IPV4_PRIVATE.test(r.ip) || /^(?:::1$|fe80:|f[cd][0-9a-f]{2}:)/i.test(r.ip)) continue;
      hit = DOTCOM_HELO.test(r.helo) && hasNoReverseDns(r) ? 1 : 0;
    }
    return hit;
  },
  check_for_forged_hotmail_received_headers(ctx) {
    return hotmail(ctx) === 1 ? 1 : 0;
  },
  check_for_no_hotmail_received_headers(ctx) {
    return hotmail(ctx) === 2 ? 1 : 0;
  },
  check_for_forged_yahoo_received_headers(ctx) {
    const from = ctx.message.get('From:addr')[0] ?? '';
    if (!/\byahoo\.com$/i.test(from)) return 0;
    let rcvd = received(ctx);
    if (header(ctx, 'Resent-From') && header(ctx, 'Resent-To')) {
      const x = received(ctx, 'X-Received');
      if (x !== '') rcvd = x;
    }
    if (gatedThroughReceivedRemover(ctx)) return 0;
    const trusted = (ctx.message.get('X-Spam-Relays-Trusted')[0] ?? '').replace(/\n$/, '');
    const untrusted = (ctx.message.get('X-Spam-Relays-Untrusted')[0] ?? '').replace(/\n$/, '');
    if (/ rdns=\S+\.yahoo\.com /.test(trusted) || /^[^\]]+ rdns=\S+\.yahoo\.com /.test(untrusted)) return 0;
    if (/by web\S+\.mail\S*\.yahoo\.com via HTTP/.test(rcvd)) return 0;
    if (/by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP/.test(rcvd)) return 0;
    if (/by smtp\S+\.yahoo\.com with SMTP/.test(rcvd)) return 0;
    if (new RegExp(String.raw`from \[${IP}\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP`).test(rcvd))
      return 0;
    if (/\bmailer\d+\.bulk\.scd\.yahoo\.com\b/.test(rcvd) && /@reply\.yahoo\.com$/i.test(from)) return 0;
    if (/by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+\/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+/.test(rcvd))
      return 0;
    return 1;
  },
};
