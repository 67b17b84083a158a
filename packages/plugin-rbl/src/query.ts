import { isIP } from 'node:net';
import { expandIpv6, normalizeDomain, normalizeIp } from '@mef/core';
import { parse as parseDomain } from 'tldts';

/**
 * The DNS name to query for an IP in a DNSBL zone (RFC 5782): IPv4 octets reversed,
 * IPv6 as 32 reversed nibbles. Returns undefined when `ip` is not an address.
 */
export function ipQueryName(ip: string, zone: string): string | undefined {
  const addr = normalizeIp(ip);
  if (!addr) return undefined;
  const z = normalizeZone(zone);
  if (isIP(addr) === 4) return `${addr.split('.').reverse().join('.')}.${z}`;
  return `${expandIpv6(addr).split('').reverse().join('.')}.${z}`;
}

/** Lower-cases a zone and strips surrounding dots. */
export function normalizeZone(zone: string): string {
  return zone
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, '');
}

/** The DNS name to query for a domain in an RHSBL or URIBL zone. */
export function domainQueryName(domain: string, zone: string): string | undefined {
  const d = normalizeDomain(domain);
  if (!d) return undefined;
  const name = `${d}.${normalizeZone(zone)}`;
  return name.length > 253 ? undefined : name;
}

/** The address of a `From` header value. */
export function fromAddress(value: string): string | undefined {
  const angle = /<([^<>]*@[^<>]*)>\s*$/.exec(value) ?? /<([^<>]*@[^<>]*)>/.exec(value);
  if (angle?.[1]) return angle[1];
  return /[^\s<>,;:"()]+@[^\s<>,;:"()]+/.exec(value)?.[0];
}

/** The full name and its registrable domain (when different): what RHSBLs are asked. */
export function domainTargets(name: string | undefined): string[] {
  const d = name === undefined ? undefined : normalizeDomain(name);
  // A single label (`localhost`, a bare host name) is no domain a list could know.
  if (!d?.includes('.')) return [];
  const reg = parseDomain(d).domain;
  return reg && reg !== d ? [d, reg] : [d];
}
