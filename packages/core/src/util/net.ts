import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { invalidOption } from '../errors.js';

/**
 * IP address helpers shared by the engine, the hosts and the plugins: one normalisation (so an
 * IPv4 client reached over an IPv6 socket is still that IPv4 client) and one strict CIDR parser.
 */

/**
 * Normalises an address: strips brackets, an `IPv6:` prefix and a zone id, and turns
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`, `::ffff:c000:201`) into IPv4; IPv6 is lower-cased.
 * Returns `undefined` when the input is not an IP address.
 */
export function normalizeIp(input: string): string | undefined {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (/^ipv6:/i.test(s)) s = s.slice(5);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return undefined;
  const nibbles = expandIpv6(s);
  if (nibbles.startsWith('00000000000000000000ffff')) {
    const n = Number.parseInt(nibbles.slice(24), 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return s.toLowerCase();
}

/**
 * The client address as the engine and the hosts record it: IPv4-mapped IPv6 becomes IPv4;
 * anything that is not an address is returned unchanged (a host may hand over `unknown`).
 */
export function clientAddress(input: string): string {
  return normalizeIp(input) ?? input;
}

/** An IPv6 address expanded to its 32 lower-case hex nibbles (an IPv4 tail folded in). */
export function expandIpv6(address: string): string {
  let s = address.toLowerCase();
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
    tail === undefined
      ? headGroups
      : [...headGroups, ...new Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) {
    throw new TypeError(`Not an IPv6 address: ${JSON.stringify(address)}`);
  }
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/**
 * A `BlockList` of CIDRs (`192.0.2.0/24`, `2001:db8::/32`) or single addresses, for
 * `list.check(ip)`. Strict, because a lax parser opens a relay: `/33`, `/-1`, `/abc` and an
 * empty prefix (`10.0.0.0/`, which `Number('')` would read as `/0`) are refused with a
 * TypeError quoting the entry. Check addresses after {@link normalizeIp}.
 */
export function networkList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    if (typeof c !== 'string') throw new TypeError(`Not an address or CIDR: ${JSON.stringify(c)}`);
    const slash = c.indexOf('/');
    const addr = slash === -1 ? c : c.slice(0, slash);
    const bits = slash === -1 ? undefined : c.slice(slash + 1);
    const ip = addr.trim() === addr && !addr.includes('%') ? normalizeIp(addr) : undefined;
    if (!ip) throw new TypeError(`Not an address or CIDR: ${JSON.stringify(c)}`);
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(ip, family);
      continue;
    }
    const max = family === 'ipv4' ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
      throw new TypeError(
        `Not an address or CIDR: ${JSON.stringify(c)} (the prefix length must be 0 to ${max})`,
      );
    }
    list.addSubnet(ip, Number(bits), family);
  }
  return list;
}

/** True when `ip` (normalised first) is inside `list`; false for anything not an address. */
export function inNetworks(list: BlockList, ip: string): boolean {
  const addr = normalizeIp(ip);
  if (!addr) return false;
  return list.check(addr, isIPv4(addr) ? 'ipv4' : 'ipv6');
}

/**
 * Checks a DNS server option (`"127.0.0.1:5353"`, `"[::1]:53"`, `"192.0.2.53"`: an IP address
 * with an optional port, 53 by default) and returns it in the form `Resolver.setServers` takes.
 * Plugins that query DNS take their resolver from options, never from the system.
 */
export function checkDnsServer(server: unknown, option = 'servers'): string {
  if (typeof server !== 'string') throw invalidOption(option, server, 'an IP address with an optional port');
  const s = server.trim();
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const v4 = /^([\d.]+)(?::(\d+))?$/.exec(s);
  if (bracket) [, host = '', port] = bracket;
  else if (v4) [, host = '', port] = v4;
  else host = s;
  const family = isIP(host);
  const p = port === undefined ? 53 : Number(port);
  if (!family || !Number.isInteger(p) || p < 1 || p > 65535) {
    throw invalidOption(
      option,
      server,
      'an IP address with an optional port, such as "127.0.0.1:5353" or "[::1]:53"',
    );
  }
  return family === 6 ? `[${host}]:${p}` : `${host}:${p}`;
}

/**
 * Checks a list of DNS servers (each as {@link checkDnsServer}): a plugin that queries DNS is
 * given its resolver explicitly and never falls back to the system's.
 */
export function checkDnsServers(value: unknown, option = 'servers'): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidOption(
      option,
      value,
      'a non-empty list of DNS servers such as ["127.0.0.1:53"] (the system resolver is never used)',
    );
  }
  return value.map((s, i) => checkDnsServer(s, `${option}[${i}]`));
}
