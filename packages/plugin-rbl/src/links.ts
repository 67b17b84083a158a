import { parse } from 'tldts';
import { normalizeIp } from './query.js';

const URL_RE = /\b(?:https?|ftp):\/\/[^\s<>"'`{}|\\^[\]]*(?:\[[0-9a-f:.]+\][^\s<>"'`{}|\\^]*)?/gi;
const WWW_RE =
  /(?<![\w.@/-])www\d{0,3}\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+/gi;
const PROTOCOL_RELATIVE_RE = /\b(?:href|src|action)\s*=\s*["']?\s*(\/\/[^\s<>"'`]+)/gi;

const NAMED: Record<string, string> = {
  amp: '&',
  sol: '/',
  colon: ':',
  period: '.',
  quot: '"',
  apos: "'",
  lt: '<',
  gt: '>',
};

/** Decodes the HTML character references that spammers use to hide links. */
export function decodeEntities(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (m, ent: string) => {
    if (ent[0] === '#') {
      const n = ent[1] === 'x' || ent[1] === 'X' ? Number.parseInt(ent.slice(2), 16) : Number(ent.slice(1));
      return Number.isInteger(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return NAMED[ent.toLowerCase()] ?? m;
  });
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
  const add = (at: number, link: string) => {
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
