import { normalizeIp } from '@mef/core';
import { parse } from 'tldts';

const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"'`{}|\\^[\]]*(?:\[[0-9a-f:.]+\][^\s<>"'`{}|\\^]*)?/gi;
const WWW_RE =
  /(?<![\w.@/-])www\d{0,3}\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+/gi;
const PROTOCOL_RELATIVE_RE = /\b(?:href|src|action)\s*=\s*["']?\s*(\/\/[^\s<>"'`]+)/gi;

// The references that can hide a link's scheme or host; `&amp;` and the like cannot.
const NAMED: Record<string, string> = {
  colon: ':',
  sol: '/',
  period: '.',
  quot: '"',
  apos: "'",
  lt: '<',
  gt: '>',
};

const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isDigit = (c: number, hex: boolean) =>
  (c >= 48 && c <= 57) || (hex && ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)));

/**
 * Decodes the HTML character references that spammers use to hide links: numeric ones and
 * `&colon;`, `&sol;`, `&period;`. A loop rather than a regex callback: a part made of
 * nothing but references costs a few ms, not a quarter of a second.
 */
export function decodeEntities(html: string): string {
  let at = html.indexOf('&');
  if (at < 0) return html;
  const out: string[] = [];
  let from = 0;
  while (at >= 0) {
    let end = at + 1;
    let value: string | undefined;
    if (html.charCodeAt(end) === 35 /* # */) {
      end++;
      const hex = html[end] === 'x' || html[end] === 'X';
      if (hex) end++;
      const digitsFrom = end;
      while (end < html.length && end - digitsFrom < 8 && isDigit(html.charCodeAt(end), hex)) end++;
      if (end > digitsFrom) {
        const n = Number.parseInt(html.slice(digitsFrom, end), hex ? 16 : 10);
        if (n > 0 && n < 0x110000) value = String.fromCodePoint(n);
      }
    } else {
      while (end < html.length && end - at <= 7 && isLetter(html.charCodeAt(end))) end++;
      value = NAMED[html.slice(at + 1, end).toLowerCase()];
    }
    if (value !== undefined) {
      if (html[end] === ';') end++;
      out.push(html.slice(from, at), value);
      from = end;
    }
    at = html.indexOf('&', value !== undefined ? end : at + 1);
  }
  out.push(html.slice(from));
  return out.join('');
}

/** The host of a link, IDN in punycode and obfuscated IPv4 (`0x7f.1`) normalised by the URL parser. */
function hostOf(link: string): string | undefined {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  return host || undefined;
}

/**
 * Finds the hosts of the links in text or HTML: `http(s)://` and `ftp://` URLs, `www.` names
 * without a scheme, and (in HTML) protocol-relative `href="//host/"`. Hosts come back in
 * order of first appearance, without duplicates.
 */
export function findLinkHosts(content: string, options: { html?: boolean } = {}): string[] {
  const text = options.html ? decodeEntities(content) : content;
  const found: { at: number; host: string }[] = [];
  const seen = new Set<string>();
  const add = (at: number, link: string) => {
    // A newsletter repeats its links: parse each distinct one once.
    if (seen.has(link)) return;
    seen.add(link);
    const host = hostOf(link);
    if (host) found.push({ at, host: host.toLowerCase() });
  };
  for (const m of text.matchAll(URL_RE)) add(m.index, m[0]);
  for (const m of text.matchAll(WWW_RE)) add(m.index, `http://${m[0]}`);
  if (options.html) for (const m of text.matchAll(PROTOCOL_RELATIVE_RE)) add(m.index, `http:${m[1] ?? ''}`);
  found.sort((a, b) => a.at - b.at);
  return [...new Set(found.map((f) => f.host))];
}

/** Link targets reduced for URI lists. */
export interface LinkTargets {
  /** Registrable domains (`evil.example.co.uk` for `a.b.evil.example.co.uk`), in order. */
  readonly domains: readonly string[];
  /** IP addresses of links such as `http://192.0.2.1/`. */
  readonly ips: readonly string[];
  /** Targets dropped because `limit` was reached. */
  readonly dropped: number;
}

/**
 * Reduces link hosts to what URI lists are asked about: the registrable domain (public
 * suffix list, through tldts) or the IP. Hosts with no registrable domain (`localhost`,
 * a bare public suffix, an unknown TLD) are dropped. At most `limit` targets are kept.
 */
export function linkTargets(hosts: Iterable<string>, limit = Number.POSITIVE_INFINITY): LinkTargets {
  const domains = new Set<string>();
  const ips = new Set<string>();
  let dropped = 0;
  for (const host of hosts) {
    const ip = normalizeIp(host);
    let target: { set: Set<string>; value: string } | undefined;
    if (ip) target = { set: ips, value: ip };
    else {
      const p = parse(host, { allowPrivateDomains: false });
      if (p.domain && p.isIcann) target = { set: domains, value: p.domain };
    }
    if (!target || target.set.has(target.value)) continue;
    if (domains.size + ips.size >= limit) {
      dropped++;
      continue;
    }
    target.set.add(target.value);
  }
  return { domains: [...domains], ips: [...ips], dropped };
}
