import { isIP } from 'node:net';

/** One destination the relays deliver to: the host whose port is to be closed to everyone else. */
export interface FirewallDestination {
  readonly host: string;
  readonly ports: readonly number[];
  /** The domains delivered there (from `relay.domains`), for the comments. */
  readonly domains: readonly string[];
}

/** The rules for one destination. */
export interface FirewallRules extends FirewallDestination {
  /** An nftables script (`nft -f FILE`): replaces the table `inet mef_relay`. */
  readonly nft: string;
  /** IPv4 rules in `iptables-restore --noflush` format. */
  readonly iptables: string;
  /** IPv6 rules in `ip6tables-restore --noflush` format. */
  readonly ip6tables: string;
}

/** An IP or CIDR as address and prefix; throws a TypeError naming the value. */
export function parseRelayAddress(value: string): {
  address: string;
  prefix: number | undefined;
  family: 4 | 6;
} {
  const [address = '', bits, extra] = value.trim().split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = bits === undefined ? undefined : Number(bits);
  if (
    !family ||
    extra !== undefined ||
    (bits !== undefined && (!/^\d{1,3}$/.test(bits) || (prefix as number) > max))
  ) {
    throw new TypeError(
      `Invalid relay address ${JSON.stringify(value)}: expected an IPv4 or IPv6 address or CIDR, such as "192.0.2.10" or "2001:db8::/64"`,
    );
  }
  return { address, prefix, family: family as 4 | 6 };
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address (port 25). */
export function parseDestination(value: string): { host: string; port: number } {
  const v = value.trim();
  if (isIP(v) === 6) return { host: v, port: 25 };
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:\s/]+)(?::(\d+))?$/.exec(v);
  const port = m?.[2] === undefined ? 25 : Number(m[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) {
    throw new TypeError(`Invalid destination ${JSON.stringify(value)}: expected "host" or "host:port"`);
  }
  return { host: m[1].toLowerCase(), port };
}

/** Groups destinations by host: one rule set per machine, with every port the relays deliver to. */
export function groupDestinations(
  list: readonly { destination: string; domain?: string }[],
): FirewallDestination[] {
  const by = new Map<string, { ports: Set<number>; domains: Set<string> }>();
  for (const d of list) {
    const { host, port } = parseDestination(d.destination);
    const entry = by.get(host) ?? { ports: new Set<number>(), domains: new Set<string>() };
    entry.ports.add(port);
    if (d.domain) entry.domains.add(d.domain);
    by.set(host, entry);
  }
  return [...by].map(([host, e]) => ({
    host,
    ports: [...e.ports].sort((a, b) => a - b),
    domains: [...e.domains].sort(),
  }));
}

const cidr = (a: { address: string; prefix: number | undefined }) =>
  a.prefix === undefined ? a.address : `${a.address}/${a.prefix}`;

function describe(d: FirewallDestination): string {
  const ports = d.ports.join(', ');
  const domains = d.domains.length ? ` (destination of ${d.domains.join(', ')})` : '';
  return `${d.host}${domains}: TCP port ${ports} only from the relays`;
}

function nft(d: FirewallDestination, v4: string[], v6: string[]): string {
  const dport = d.ports.length === 1 ? String(d.ports[0]) : `{ ${d.ports.join(', ')} }`;
  const set = (name: string, type: string, elements: string[]) => [
    `  set ${name} {`,
    `    type ${type}`,
    '    flags interval',
    `    elements = { ${elements.join(', ')} }`,
    '  }',
  ];
  return [
    `# mef firewall, nftables, on ${describe(d)}`,
    '# Load with: nft -f FILE (it replaces the table inet mef_relay)',
    'table inet mef_relay',
    'delete table inet mef_relay',
    'table inet mef_relay {',
    ...(v4.length ? set('relays_v4', 'ipv4_addr', v4) : []),
    ...(v6.length ? set('relays_v6', 'ipv6_addr', v6) : []),
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    '    iifname "lo" accept',
    ...(v4.length ? [`    tcp dport ${dport} ip saddr @relays_v4 accept`] : []),
    ...(v6.length ? [`    tcp dport ${dport} ip6 saddr @relays_v6 accept`] : []),
    `    tcp dport ${dport} counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function restore(d: FirewallDestination, relays: string[], tool: 'iptables' | 'ip6tables'): string {
  const match = d.ports.length === 1 ? `--dport ${d.ports[0]}` : `-m multiport --dports ${d.ports.join(',')}`;
  return [
    `# mef firewall, ${tool}, on ${describe(d)}`,
    `# Load once with: ${tool}-restore --noflush < FILE`,
    '*filter',
    ':MEF-SMTP - [0:0]',
    `-I INPUT -p tcp ${match} -j MEF-SMTP`,
    '-A MEF-SMTP -i lo -j ACCEPT',
    ...relays.map((r) => `-A MEF-SMTP -s ${r} -j ACCEPT`),
    '-A MEF-SMTP -j DROP',
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * The firewall rules that let each destination accept SMTP only from the relays, for
 * nftables, iptables and ip6tables. The address family without relays is closed too: a
 * port open over IPv6 would let senders go around the relays.
 */
export function firewallRules(
  relays: readonly string[],
  destinations: readonly FirewallDestination[],
): FirewallRules[] {
  if (relays.length === 0) throw new TypeError('Invalid relays: expected at least one relay address');
  const parsed = relays.map(parseRelayAddress);
  const v4 = parsed.filter((a) => a.family === 4).map(cidr);
  const v6 = parsed.filter((a) => a.family === 6).map(cidr);
  return destinations.map((d) => ({
    ...d,
    nft: nft(d, v4, v6),
    iptables: restore(d, v4, 'iptables'),
    ip6tables: restore(d, v6, 'ip6tables'),
  }));
}
