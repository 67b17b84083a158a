import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

/** One MX record as found, with its TTL in s. */
export interface MxRecord {
  readonly priority: number;
  /** The host name, lower case, without the final dot; `""` for a null MX (RFC 7505). */
  readonly exchange: string;
  readonly ttl: number;
}

/** What is wrong with a domain's MX records. */
export type DnsProblemCode =
  | 'NXDOMAIN'
  | 'NO_MX'
  | 'NULL_MX'
  | 'MISSING_HOST'
  | 'EXTRA_HOST'
  | 'WRONG_ORDER'
  | 'TIMEOUT'
  | 'DNS_ERROR';

export interface DnsProblem {
  readonly code: DnsProblemCode;
  readonly message: string;
}

/** The answer of {@link checkDns}. */
export interface DnsCheck {
  readonly domain: string;
  /** The server asked, `host:port`. */
  readonly server: string;
  /** The relays expected, in priority order. */
  readonly expected: readonly string[];
  /** The MX records found, by priority. */
  readonly records: readonly MxRecord[];
  /** The longest TTL of the MX records in s: how long resolvers may keep the old answer. */
  readonly ttl: number | undefined;
  readonly ok: boolean;
  readonly problems: readonly DnsProblem[];
}

/** Options of {@link checkDns}. */
export interface CheckDnsOptions {
  /** The relays that should be the MX hosts, first the one with the lowest priority value. */
  readonly expect: readonly string[];
  /** The DNS server, `host:port` (IP literal; `[v6]:port`). */
  readonly server: string;
  /** Most time for the answer, in ms (default 3,000). */
  readonly queryTimeout?: number;
  /** Sends of the query within the `queryTimeout` (default 3). */
  readonly tries?: number;
}

const host = (name: string) => name.trim().toLowerCase().replace(/\.$/, '');

/** `127.0.0.1:53`, `[::1]:5353` or a bare IP (port 53) as address, port and family. */
export function parseDnsServer(server: string): { address: string; port: number; family: 4 | 6 } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(server) ?? /^([^:]+)(?::(\d+))?$/.exec(server);
  const address = m?.[1] ?? (isIP(server) === 6 ? server : '');
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  const family = isIP(address);
  if (!family || !(port >= 1 && port <= 65535)) {
    throw new TypeError(
      `Invalid DNS server ${JSON.stringify(server)}: expected an IP address with an optional port, such as "127.0.0.1:53"`,
    );
  }
  return { address, port, family: family as 4 | 6 };
}

class DnsQueryError extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'DNS_ERROR' | 'NXDOMAIN',
    message: string,
  ) {
    super(message);
  }
}

/** Sends one MX query over UDP and reads the answer with its TTLs (Node's resolver drops MX TTLs). */
async function queryMx(
  domain: string,
  server: string,
  queryTimeout: number,
  tries: number,
): Promise<MxRecord[]> {
  const { address, port, family } = parseDnsServer(server);
  const id = randomInt(0, 65536);
  const query = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'MX', name: domain }],
  });
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<MxRecord[]>((resolve, reject) => {
      let sent = 0;
      let resend: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        if (resend) clearTimeout(resend);
        reject(new DnsQueryError('TIMEOUT', `no answer from ${server} within ${queryTimeout} ms`));
      }, queryTimeout);
      const done = () => {
        clearTimeout(timer);
        if (resend) clearTimeout(resend);
      };
      const send = () => {
        sent++;
        socket.send(query, port, address);
        if (sent < tries) resend = setTimeout(send, queryTimeout / tries);
      };
      socket.on('error', (err) => {
        done();
        reject(
          new DnsQueryError(
            'DNS_ERROR',
            `cannot ask ${server}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          ),
        );
      });
      socket.on('message', (msg) => {
        let answer: packet.Packet;
        try {
          answer = packet.decode(msg);
        } catch {
          return; // garbage is not an answer; wait for one
        }
        if (answer.id !== id) return;
        done();
        const rcode = (answer as { rcode?: string }).rcode ?? 'NOERROR';
        if (rcode === 'NXDOMAIN') {
          reject(new DnsQueryError('NXDOMAIN', `${domain} does not exist (NXDOMAIN from ${server})`));
          return;
        }
        if (rcode !== 'NOERROR') {
          reject(new DnsQueryError('DNS_ERROR', `${server} answered ${rcode} for ${domain} MX`));
          return;
        }
        const records: MxRecord[] = [];
        for (const a of answer.answers ?? []) {
          if (a.type !== 'MX' || host(a.name) !== host(domain)) continue;
          const data = a.data as { preference?: number; exchange?: string };
          records.push({
            priority: data.preference ?? 0,
            exchange: host(data.exchange ?? ''),
            ttl: a.ttl ?? 0,
          });
        }
        resolve(records.sort((x, y) => x.priority - y.priority || x.exchange.localeCompare(y.exchange)));
      });
      send();
    });
  } finally {
    socket.close();
  }
}

/** Seconds as the largest whole unit (`3600 s (1 h)`). */
export function formatTtl(ttl: number): string {
  if (ttl >= 86_400 && ttl % 3600 === 0) return `${ttl} s (${+(ttl / 86_400).toFixed(1)} d)`;
  if (ttl >= 3600) return `${ttl} s (${+(ttl / 3600).toFixed(1)} h)`;
  if (ttl >= 60) return `${ttl} s (${+(ttl / 60).toFixed(1)} min)`;
  return `${ttl} s`;
}

/** Compares MX records with the relays expected (pure: the part of {@link checkDns} after the query). */
export function compareMx(records: readonly MxRecord[], expected: readonly string[]): DnsProblem[] {
  const problems: DnsProblem[] = [];
  const want = expected.map(host);
  if (records.length === 0) return [{ code: 'NO_MX', message: 'no MX records' }];
  if (records.some((r) => r.exchange === '')) {
    problems.push({ code: 'NULL_MX', message: 'a null MX ("0 ."): the domain says it accepts no mail' });
  }
  const found = new Map<string, number>();
  for (const r of records) {
    if (r.exchange !== '' && !found.has(r.exchange)) found.set(r.exchange, r.priority);
  }
  for (const w of want) {
    if (!found.has(w)) problems.push({ code: 'MISSING_HOST', message: `relay ${w} is not an MX host` });
  }
  for (const [name, priority] of found) {
    if (!want.includes(name)) {
      problems.push({
        code: 'EXTRA_HOST',
        message: `MX host ${name} (priority ${priority}) is not one of the relays: mail sent to it bypasses the filter`,
      });
    }
  }
  const present = want.filter((w) => found.has(w));
  for (let i = 1; i < present.length; i++) {
    const a = present[i - 1] as string;
    const b = present[i] as string;
    const pa = found.get(a) as number;
    const pb = found.get(b) as number;
    if (pa > pb) {
      problems.push({
        code: 'WRONG_ORDER',
        message: `wrong order: ${a} has priority ${pa} and ${b} has ${pb}; expected ${a} first (a lower value)`,
      });
    }
  }
  return problems;
}

/**
 * Checks that a domain's MX records are the expected relays, in the expected priority order,
 * by asking the named DNS server; reports the TTL.
 */
export async function checkDns(domain: string, options: CheckDnsOptions): Promise<DnsCheck> {
  const name = host(domain);
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name) || name.length > 253) {
    throw new TypeError(
      `Invalid domain ${JSON.stringify(domain)}: expected a domain name such as "example.net"`,
    );
  }
  const expected = options.expect.map(host).filter(Boolean);
  if (expected.length === 0)
    throw new TypeError('Invalid option expect: expected at least one relay host name');
  const base = { domain: name, server: options.server, expected };
  let records: MxRecord[];
  try {
    records = await queryMx(name, options.server, options.queryTimeout ?? 3000, options.tries ?? 3);
  } catch (err) {
    if (!(err instanceof DnsQueryError)) throw err;
    return {
      ...base,
      records: [],
      ttl: undefined,
      ok: false,
      problems: [{ code: err.code, message: err.message }],
    };
  }
  const problems = compareMx(records, expected);
  const ttl = records.length ? Math.max(...records.map((r) => r.ttl)) : undefined;
  return { ...base, records, ttl, ok: problems.length === 0, problems };
}

/** The check as lines for a terminal. */
export function formatDnsCheck(c: DnsCheck): string {
  const lines = [`${c.domain} MX (asked ${c.server}):`];
  for (const r of c.records) lines.push(`  ${r.priority} ${r.exchange || '.'}  TTL ${r.ttl}`);
  if (c.ok) {
    lines.push(
      `OK: the MX hosts are the relays in order (${c.expected.join(', ')}); a change takes up to ${formatTtl(c.ttl ?? 0)} to be seen`,
    );
  } else {
    for (const p of c.problems) lines.push(`FAIL ${p.code}: ${p.message}`);
    if (c.ttl !== undefined) lines.push(`TTL: resolvers may keep these records up to ${formatTtl(c.ttl)}`);
  }
  return `${lines.join('\n')}\n`;
}
