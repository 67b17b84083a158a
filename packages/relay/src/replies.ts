import type { Verdict } from '@mef/core';
import { toSmtpReply } from '@mef/core/hosts';
import type { SmtpReply } from './smtp-client.js';

/** An error smtp-server turns into a reply: the code, and the enhanced code in the text. */
export type ReplyError = Error & { responseCode: number };

export function replyError(code: number, enhanced: string, text: string): ReplyError {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}

export function isReplyError(err: unknown): err is ReplyError {
  return typeof (err as { responseCode?: unknown } | null)?.responseCode === 'number';
}

export function fromVerdict(v: Verdict): ReplyError {
  const r = toSmtpReply(v);
  return replyError(r.code, r.enhanced, r.lines.join(' '));
}

/** A destination's reply passed on: 5xx as it is, anything else as 451 (the sender retries). */
export function fromDestination(r: SmtpReply, what: string): ReplyError {
  const permanent = Math.floor(r.code / 100) === 5;
  const code = permanent ? r.code : 451;
  const enhanced =
    r.enhanced && r.enhanced[0] === (permanent ? '5' : '4') ? r.enhanced : permanent ? '5.0.0' : '4.4.0';
  return replyError(code, enhanced, `${what}: ${r.lines.join(' ')}`.replace(/[\r\n]/g, ' ').slice(0, 400));
}

/** `host:port` or `[v6]:port` split. */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new TypeError(`Invalid destination ${JSON.stringify(s)}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** The domain of an address, lower-cased (`''` when there is none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).toLowerCase();
}

/**
 * True for sender-specified routing in a recipient: `user%other@relay`, `other!user@relay`, or a
 * second `@` (`@a:user@b` source routes are stripped by smtp-server already). Postfix refuses
 * these from untrusted clients (`allow_untrusted_routing = no`); so does the relay.
 */
export function hasSenderRouting(address: string): boolean {
  const at = address.lastIndexOf('@');
  const local = at === -1 ? address : address.slice(0, at);
  return /[%!@]/.test(local);
}
