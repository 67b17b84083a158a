import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail is folded in). */
function ipv6Groups(ip: string): number[] {
  let s = ip.toLowerCase().split('%')[0] as string;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => Number.parseInt(g, 16));
}

/**
 * The client's network as greylisting keys it: the /24 of an IPv4 address, the /64 of an
 * IPv6 one (an ISP hands a host a whole /64; mail servers retry from a neighbour in a pool).
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as IPv4. Anything else is kept as it is.
 */
export function clientNetwork(ip: string, v4Bits = 24, v6Bits = 64): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? (mapped[1] as string) : ip;
  if (isIPv4(addr)) {
    const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const net = Math.floor(n / 2 ** (32 - v4Bits)) * 2 ** (32 - v4Bits);
    return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.')}/${v4Bits}`;
  }
  if (isIPv6(addr)) {
    const groups = ipv6Groups(addr);
    const out = groups.map((g, i) => {
      const bits = Math.max(0, Math.min(16, v6Bits - i * 16));
      return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff;
    });
    return `${out.map((g) => g.toString(16)).join(':')}/${v6Bits}`;
  }
  return addr;
}
