import { isIPv4 } from 'node:net';
import { expandIpv6, normalizeIp } from '@mef/core';

/**
 * The client's network as greylisting keys it: the /24 of an IPv4 address, the /64 of an
 * IPv6 one (an ISP hands a host a whole /64; mail servers retry from a neighbour in a pool).
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as IPv4. Anything else is kept as it is.
 */
export function clientNetwork(ip: string, v4Bits = 24, v6Bits = 64): string {
  const addr = normalizeIp(ip);
  if (addr === undefined) return ip;
  if (isIPv4(addr)) {
    const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const net = Math.floor(n / 2 ** (32 - v4Bits)) * 2 ** (32 - v4Bits);
    return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.')}/${v4Bits}`;
  }
  const nibbles = expandIpv6(addr);
  const groups = Array.from({ length: 8 }, (_, i) => Number.parseInt(nibbles.slice(i * 4, i * 4 + 4), 16));
  const out = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, v6Bits - i * 16));
    return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${out.map((g) => g.toString(16)).join(':')}/${v6Bits}`;
}
