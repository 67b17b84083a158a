import { networkList } from '@mef/core';
import { z } from 'zod';
import {
  type DomainSettings,
  type DomainSettingsSource,
  type domainSettingsSchema,
  domainsSchema,
} from './domain-settings.js';

export type { DomainSettings, DomainSettingsSource, TransactionRecord } from './domain-settings.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+):\d{1,5}$/, {
  error: 'a "host:port" address such as "192.0.2.10:25" or "[2001:db8::1]:25"',
});
const ms = z.number().int().positive().describe('Milliseconds');
/** A CIDR or address, checked with the one CIDR helper (`networkList` of @mef/core). */
const network = z.string().refine(
  (s) => {
    try {
      networkList([s]);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'an address or CIDR such as "192.0.2.0/24" or "2001:db8::/32" (prefix within range)' },
);
const listen = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(2525),
});
const tlsFiles = z
  .strictObject({
    key: z.string().min(1).describe('PEM private key file'),
    cert: z.string().min(1).describe('PEM certificate chain file'),
  })
  .describe('Certificate for STARTTLS and implicit TLS');

/** The `relay:` section of the config file. */
export const relaySchema = z
  .strictObject({
    listen: listen.default({ host: '127.0.0.1', port: 2525 }),
    hostname: z
      .string()
      .min(1)
      .default('mef-relay.localhost')
      .describe('Name in the greeting, EHLO and Received'),
    domains: domainsSchema
      .default({})
      .describe('Domains the relay accepts mail for; RCPT for any other is refused (no open relay)'),
    outbound: z
      .strictObject({
        networks: z.array(network).default([]).describe('Clients that may relay anywhere'),
        smarthost: hostPort.describe('Next hop for outbound mail'),
      })
      .optional(),
    tls: tlsFiles.optional().describe('Offer STARTTLS inbound with this certificate (opportunistic)'),
    submission: z
      .strictObject({
        listen: z
          .array(
            listen.extend({
              secure: z.boolean().default(false).describe('Implicit TLS (465); else STARTTLS (587)'),
            }),
          )
          .min(1),
        users: z
          .string()
          .min(1)
          .optional()
          .describe('File of "user:$scrypt$..." lines for AUTH PLAIN and LOGIN'),
        networks: z.array(network).default([]).describe('Clients that may submit without AUTH'),
        smarthost: hostPort.optional().describe('Next hop for submitted mail'),
        mx: z
          .strictObject({
            dns: z
              .array(z.union([hostPort, z.ipv4(), z.ipv6()]))
              .min(1)
              .describe('DNS servers to ask (never the system resolver)'),
            port: z.number().int().min(1).max(65535).default(25),
          })
          .optional()
          .describe("Deliver to the recipient domain's MX instead of a smarthost"),
      })
      .refine((s) => (s.smarthost === undefined) !== (s.mx === undefined), {
        error: 'exactly one of smarthost and mx',
      })
      .optional()
      .describe('The submission listeners for customers (needs relay.tls): AUTH over TLS, or the networks'),
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024),
    destinationTimeout: ms
      .default(30_000)
      .describe('Connect, command and write timeout toward a destination (ms)'),
    destinationKeepalive: ms.default(20_000).describe('NOOP to an idle destination after this long (ms)'),
    destinationTls: z
      .strictObject({
        ca: z.string().min(1).describe('PEM file of the CA certificates that sign the destinations'),
      })
      .optional()
      .describe(
        'How a destination whose tls is required is verified (its certificate must name its host); default: the system CA store',
      ),
    dnsLists: z
      .strictObject({
        at: z
          .enum(['connect', 'rcpt'])
          .describe(
            'connect: 554 before the greeting is answered (at RCPT instead while any domain is in monitor mode); rcpt: 550 to each RCPT',
          ),
      })
      .optional()
      .describe(
        'Refuse a client on a DNS blocklist (the rbl lists) at this step; unset: the lists only score',
      ),
    tempDir: z.string().min(1).optional().describe('Folder for the temporary copy of large messages'),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(32)])
      .optional()
      .describe(
        '`mef relay` processes sharing the listening sockets (node:cluster). auto (default): one per CPU (at most 32). Limits apply per process',
      ),
    scheduling: z
      .enum(['kernel', 'round-robin'])
      .optional()
      .describe(
        'With several `mef relay` processes, who spreads the connections: kernel (default): every process accepts from the shared socket, so an idle one takes the next connection; round-robin: the primary accepts and hands each connection to the next process in turn (one more hop per connection). A change needs a restart',
      ),
    threads: z
      .union([z.literal('auto'), z.number().int().min(0).max(32)])
      .optional()
      .describe(
        "Worker threads per `mef relay` process for the filters' message stages (rules, attachments, scanners), off the SMTP event loop; used when every filter acts on the message alone. 0 (default): none; auto: one with 2 CPUs or more",
      ),
    metrics: listen
      .optional()
      .describe('Serve Prometheus /metrics and /healthz over HTTP on this address (off unless set)'),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info') })
      .optional()
      .describe('One pino JSON line per transaction on standard output (off unless set)'),
    limits: z
      .strictObject({
        connections: z.number().int().positive().default(500),
        recipients: z.number().int().positive().default(100).describe('Recipients per message'),
        sessionTime: ms.default(30 * 60_000).describe('Longest session (ms)'),
        commandTime: ms.default(60_000).describe('Longest wait for one command line (ms)'),
        dataTime: ms.default(10 * 60_000).describe('Longest DATA upload (ms)'),
        maxHops: z.number().int().positive().default(30).describe('Received fields before 554 (mail loop)'),
        drainTime: ms.default(60_000).describe('How long a shutdown waits for transactions in flight (ms)'),
        greetingDelay: z
          .number()
          .int()
          .nonnegative()
          .default(0)
          .describe(
            'Wait before the greeting; a client that talks first gets 421 (a pregreet test). 0: greet at once',
          ),
        perIpConnections: z
          .number()
          .int()
          .positive()
          .default(50)
          .describe('Sessions at once from one client address (outbound networks exempt)'),
        perIpRate: z
          .number()
          .int()
          .nonnegative()
          .default(0)
          .describe(
            'New sessions per minute from one client address; 0: no limit (outbound networks exempt)',
          ),
      })
      .prefault({}),
  })
  .describe('The filtering relay');

export type RelaySection = z.infer<typeof relaySchema>;
/** The relay section as written in a file (before defaults). */
export type RelaySectionInput = z.input<typeof relaySchema>;

/** The domains of a file as a source: a Map, so no user input reaches an object's built-ins. */
export function staticDomains(
  domains: Readonly<Record<string, DomainSettings | z.infer<typeof domainSettingsSchema>>>,
): DomainSettingsSource {
  const map = new Map<string, DomainSettings>();
  // A JSON copy drops the keys zod left undefined, so the value is a DomainSettings exactly.
  for (const [name, d] of Object.entries(domains)) map.set(name.toLowerCase(), JSON.parse(JSON.stringify(d)));
  const monitored = [...map.values()].some((d) => d.monitor === true);
  return { get: (domain) => map.get(domain.toLowerCase()), anyMonitored: () => monitored };
}

/**
 * How many processes `mef relay` runs for `relay.workers` on a machine with `cpus` CPUs. `auto`
 * (the default): one per CPU, at most 32 (one process alone, no primary, on one CPU). With the
 * kernel spreading the connections (`relay.scheduling`, the default) two processes on the
 * 2-CPU bench machine delivered more than one (bench/results/relay.md, session 13). A number is
 * used as it is.
 */
export function relayWorkerCount(setting: RelaySection['workers'], cpus: number): number {
  if (typeof setting === 'number') return setting;
  return Math.max(1, Math.min(32, cpus));
}

/**
 * How many threads `mef relay` starts per process for `relay.threads` on a machine with `cpus`
 * CPUs: none by default; `auto` is one with 2 CPUs or more, none with one. A number is used as
 * it is.
 */
export function relayThreadCount(setting: RelaySection['threads'], cpus: number): number {
  if (typeof setting === 'number') return setting;
  if (setting === 'auto') return cpus >= 2 ? 1 : 0;
  return 0;
}
