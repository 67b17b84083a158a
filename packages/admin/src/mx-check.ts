import { promises as dns } from 'node:dns';

/** The result of {@link checkMx}. */
export interface MxCheck {
  /** True when the MX records are exactly the expected hosts, in the expected priority order. */
  ok: boolean;
  /** The MX records found, lowest priority value (most preferred) first. */
  records: Array<{ exchange: string; priority: number }>;
  /** What is wrong, in words; empty when `ok`. */
  problems: string[];
}

/**
 * Asks the given DNS servers (never the system resolver) for `domain`'s MX records and compares
 * them with `expected` (the relays' host names, most preferred first). A small check of its own
 * for the rollout page; `mef check-dns` is the command-line tool for the same step.
 */
export async function checkMx(
  domain: string,
  expected: readonly string[],
  options: { servers: readonly string[]; queryTimeout?: number },
): Promise<MxCheck> {
  if (!options.servers.length) throw new TypeError('checkMx: at least one DNS server is required');
  const resolver = new dns.Resolver({ timeout: options.queryTimeout ?? 1000, tries: 2 });
  resolver.setServers([...options.servers]);
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = (await resolver.resolveMx(domain))
      .map((r) => ({ exchange: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority }))
      .sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTFOUND' || code === 'ENODATA'
        ? `${domain} has no MX records`
        : `the DNS lookup failed (${code ?? (err as Error).message})`;
    return { ok: false, records: [], problems: [why] };
  }
  const want = expected.map((e) => e.toLowerCase().replace(/\.$/, ''));
  const problems: string[] = [];
  for (const r of records) {
    if (!want.includes(r.exchange)) problems.push(`MX ${r.priority} ${r.exchange} is not a relay`);
  }
  for (const w of want) {
    if (!records.some((r) => r.exchange === w)) problems.push(`${w} is missing from the MX records`);
  }
  if (!problems.length) {
    // Expected order: no relay preferred over one listed before it (equal values share the load).
    const prio = want.map((w) => records.find((r) => r.exchange === w)?.priority ?? 0);
    for (let i = 1; i < prio.length; i++) {
      if ((prio[i] ?? 0) < (prio[i - 1] ?? 0)) {
        problems.push(`${want[i]} is preferred over ${want[i - 1]}`);
      }
    }
  }
  return { ok: problems.length === 0, records, problems };
}
