import { isIP, isIPv4, isIPv6 } from 'node:net';

/**
 * Normalises an address: strips brackets and a zone id, turns IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`) into IPv4. Returns undefined when it is not an IP address.
 */
export function normalizeIp(input: string): string | undefined {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (/^ipv6:/i.test(s)) s = s.slice(5);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return undefined;
  // IPv4-mapped IPv6 (::ffff:192.0.2.1 or ::ffff:c000:201) is the IPv4 client it maps.
  const nibbles = ipv6Nibbles(s);
  if (nibbles.startsWith('00000000000000000000ffff')) {
    const n = Number.parseInt(nibbles.slice(24), 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return s.toLowerCase();
}

/** Expands an IPv6 address to its 32 hex nibbles. */
export function ipv6Nibbles(address: string): string {
  let s = address.toLowerCase();
  // An embedded IPv4 tail becomes two hex groups.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1, 5).map(Number);
    const hi = (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16);
    const lo = (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16);
    s = `${s.slice(0, v4.index)}${hi}:${lo}`;
  }
  const [head = '', tail] = s.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...new Array<string>(missing).fill('0'), ...tailGroups];
  if (groups.length !== 8) throw new TypeError(`Not an IPv6 address: ${JSON.stringify(address)}`);
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/**
 * The DNS name to query for an IP in a DNSBL zone (RFC 5782): IPv4 octets reversed,
 * IPv6 as 32 reversed nibbles. Returns undefined when `ip` is not an address.
 */
export function ipQueryName(ip: string, zone: string): string | undefined {
  const addr = normalizeIp(ip);
  if (!addr) return undefined;
  const z = normalizeZone(zone);
  if (isIP(addr) === 4) return `${addr.split('.').reverse().join('.')}.${z}`;
  return `${ipv6Nibbles(addr).split('').reverse().join('.')}.${z}`;
}

/** Lower-cases a zone and strips surrounding dots. */
export function normalizeZone(zone: string): string {
  return zone
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, '');
}

/**
 * Normalises a domain for an RHSBL query: lower case, no trailing dot, no brackets;
 * IDNs to punycode. Returns undefined when the name cannot be a DNS host name
 * (an address literal, empty labels, a label over 63 octets, a name over 253).
 */
export function normalizeDomain(input: string): string | undefined {
  let s = input.trim().toLowerCase().replace(/\.+$/, '');
  if (!s || s.startsWith('[') || isIP(s)) return undefined;
  if (/[^\x00-\x7f]/.test(s)) {
    try {
      s = new URL(`http://${s}/`).hostname;
    } catch {
      return undefined;
    }
  }
  if (s.length > 253) return undefined;
  const labels = s.split('.');
  for (const l of labels) {
    if (!l || l.length > 63 || !/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(l)) return undefined;
  }
  return s;
}

/** The DNS name to query for a domain in an RHSBL or URIBL zone. */
export function domainQueryName(domain: string, zone: string): string | undefined {
  const d = normalizeDomain(domain);
  if (!d) return undefined;
  const name = `${d}.${normalizeZone(zone)}`;
  return name.length > 253 ? undefined : name;
}

/** The domain part of an address such as `user@example.com` (undefined for `<>`). */
export function addressDomain(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const s = address.trim().replace(/^<|>$/g, '');
  const at = s.lastIndexOf('@');
  if (at < 0 || at === s.length - 1) return undefined;
  return normalizeDomain(s.slice(at + 1));
}
