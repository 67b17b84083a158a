import { BlockList, isIPv4 } from 'node:net';
import { inNetworks, normalizeIp } from '@mef/core';

const RESERVED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const;
const RESERVED_V6 = [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

const reserved = (() => {
  const list = new BlockList();
  for (const [a, b] of RESERVED_V4) list.addSubnet(a, b, 'ipv4');
  for (const [a, b] of RESERVED_V6) list.addSubnet(a, b, 'ipv6');
  return list;
})();

/** True for loopback, private, link-local, shared, multicast and unspecified addresses. */
export function isReservedIp(ip: string): boolean {
  return reserved.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
}

/**
 * The public IPs of the `from` part of `Received` fields, newest first: the hops a DNSBL
 * can say something about. Skips reserved addresses, the `trusted` networks (your own
 * relays), and `exclude` (the connecting client, already checked). At most `max` hops.
 */
export function receivedHops(
  received: readonly string[],
  options: { trusted?: BlockList; exclude?: readonly string[]; max?: number } = {},
): string[] {
  const out: string[] = [];
  const max = options.max ?? 3;
  const exclude = new Set(options.exclude ?? []);
  for (const value of received) {
    if (out.length >= max) break;
    // Only the `from` clause names the sending hop; `by` is the receiving host.
    const fromPart = value.split(/\bby\s/i)[0] ?? '';
    const m = /\[(?:ipv6:)?([0-9a-f:.]+)\]/i.exec(fromPart) ?? /\(([0-9a-f:.]{7,})\)/i.exec(fromPart);
    const ip = m?.[1] ? normalizeIp(m[1]) : undefined;
    if (!ip || isReservedIp(ip) || exclude.has(ip) || out.includes(ip)) continue;
    if (options.trusted && inNetworks(options.trusted, ip)) continue;
    out.push(ip);
  }
  return out;
}
