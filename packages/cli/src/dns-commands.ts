import { getServers } from 'node:dns';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkDns, formatDnsCheck } from './check-dns.js';
import { ConfigError, loadConfigFile } from './config.js';
import { type FirewallDestination, firewallRules, groupDestinations } from './firewall.js';

interface Out {
  readonly stdout: (s: string) => void;
}

function hostList(value: string): string[] {
  const list = value
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (!list.length)
    throw new InvalidArgumentError(
      `expected host names such as "mx1.example.net,mx2.example.net", found "${value}"`,
    );
  return list;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1)
    throw new InvalidArgumentError(`expected a positive whole number, found "${value}"`);
  return n;
}

/** The destinations of `firewall.destinations`, else of `relay.domains.*.destination`. */
function destinationsOf(config: Record<string, unknown>, file: string): FirewallDestination[] {
  const fw = config.firewall as { destinations?: string[] } | undefined;
  const list: { destination: string; domain?: string }[] = [];
  if (fw?.destinations?.length) {
    for (const destination of fw.destinations) list.push({ destination });
  } else {
    // The relay section (another part of the schema) names a destination per domain.
    const relay = config.relay as { domains?: unknown } | undefined;
    const domains = relay?.domains;
    if (domains && typeof domains === 'object') {
      for (const [domain, d] of Object.entries(domains as Record<string, unknown>)) {
        const destination = (d as { destination?: unknown } | null)?.destination;
        if (typeof destination === 'string') list.push({ destination, domain });
      }
    }
  }
  if (!list.length) {
    throw new ConfigError(
      `${file}: firewall.destinations: expected the hosts to protect (or relay.domains.*.destination), found nothing`,
    );
  }
  try {
    return groupDestinations(list);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
}

/** Adds `mef check-dns` and `mef firewall`: the set-up steps of a domain moved behind the relays. */
export function addDnsCommands(program: Command, io: Out, exit: (code: number) => void): void {
  program
    .command('check-dns')
    .description("check that a domain's MX records are the relays, in the expected priority order")
    .argument('<domain>', 'the domain, such as example.net')
    .requiredOption(
      '--expect <hosts>',
      'the relays, lowest priority value first: mx1.example.net,mx2.example.net',
      hostList,
    )
    .option(
      '--dns <host:port>',
      "the DNS server to ask (default: the first of the system's configured servers)",
    )
    .option('--query-timeout <ms>', 'how long to wait for the answer (default 3000)', positiveInt)
    .option('--json', 'the result as one JSON object')
    .addHelpText(
      'after',
      '\nExit codes: 0 the MX records are the relays in order; 1 they are not, or DNS failed; 2 usage error.',
    )
    .action(
      async (
        domain: string,
        flags: { expect: string[]; dns?: string; queryTimeout?: number; json?: boolean },
      ) => {
        const server = flags.dns ?? getServers()[0];
        if (!server)
          throw new ConfigError(
            '--dns: no DNS server configured on this system; name one with --dns host:port',
          );
        let result: Awaited<ReturnType<typeof checkDns>>;
        try {
          result = await checkDns(domain, {
            expect: flags.expect,
            server,
            ...(flags.queryTimeout !== undefined ? { queryTimeout: flags.queryTimeout } : {}),
          });
        } catch (err) {
          if (err instanceof TypeError) throw new ConfigError(err.message);
          throw err;
        }
        io.stdout(flags.json ? `${JSON.stringify(result)}\n` : formatDnsCheck(result));
        exit(result.ok ? 0 : 1);
      },
    );

  program
    .command('firewall')
    .description(
      'print nftables and iptables rules that let each destination accept SMTP only from the relays',
    )
    .requiredOption(
      '--config <file>',
      'YAML or JSON configuration with firewall.relays (and the destinations)',
    )
    .addOption(
      new Option('--format <format>', 'which rules to print (default all)').choices([
        'all',
        'nft',
        'iptables',
        'ip6tables',
      ]),
    )
    .option('--destination <host>', "only this destination's rules")
    .addHelpText(
      'after',
      `
The destinations are firewall.destinations ("host" or "host:port"), else each
relay.domains.*.destination; the relays are firewall.relays (IP addresses or CIDRs):

  firewall:
    relays: ["192.0.2.10", "2001:db8::10"]
    destinations: ["mail.example.net:25"]`,
    )
    .action(async (flags: { config: string; format?: string; destination?: string }) => {
      const config = (await loadConfigFile(flags.config)) as Record<string, unknown>;
      const relays = (config.firewall as { relays?: string[] } | undefined)?.relays;
      if (!relays?.length) {
        throw new ConfigError(
          `${flags.config}: firewall.relays: expected the relays' addresses, found nothing`,
        );
      }
      let destinations = destinationsOf(config, flags.config);
      if (flags.destination !== undefined) {
        const want = flags.destination.toLowerCase();
        destinations = destinations.filter((d) => d.host === want);
        if (!destinations.length)
          throw new ConfigError(
            `--destination: ${flags.destination} is not a destination of ${flags.config}`,
          );
      }
      const format = flags.format ?? 'all';
      const parts: string[] = [];
      for (const r of firewallRules(relays, destinations)) {
        if (format === 'all' || format === 'nft') parts.push(r.nft);
        if (format === 'all' || format === 'iptables') parts.push(r.iptables);
        if (format === 'all' || format === 'ip6tables') parts.push(r.ip6tables);
      }
      io.stdout(parts.join('\n'));
      exit(0);
    });
}
