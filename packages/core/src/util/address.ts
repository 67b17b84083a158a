import { isIP } from 'node:net';

/**
 * Address and domain parsing shared by the plugins: one notion of "the domain of this sender"
 * for RHSBL lookups, rules and authentication.
 */

/**
 * Normalises a DNS host name: lower case, no trailing dot; an IDN becomes punycode. Returns
 * `undefined` when the name cannot be a host name (an address literal, empty labels, a label
 * over 63 octets, a name over 253).
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
  for (const l of s.split('.')) {
    if (!l || l.length > 63 || !/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(l)) return undefined;
  }
  return s;
}

/**
 * The domain of an address, normalised by {@link normalizeDomain}. Takes an envelope address
 * (`user@example.com`, `<user@example.com>`) or a header value (`Name <user@example.com>`,
 * `user@example.com (comment)`); for a header with several addresses, the first. Returns
 * `undefined` for the null sender `<>`, a value without an address, or an address literal.
 */
export function addressDomain(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const s = value.trim();
  const angled = /<[^<>]{0,256}@([^<>\s]{1,255})>/.exec(s);
  if (angled?.[1]) return normalizeDomain(angled[1]);
  const bare =
    /^[^\s<>@]{1,256}@([^\s<>@,;]{1,255})$/.exec(s) ??
    /[^\s<>"@,;:]{1,64}@([A-Za-z0-9.\-_\u0080-\uffff]{1,255})/.exec(s);
  return bare?.[1] ? normalizeDomain(bare[1]) : undefined;
}
