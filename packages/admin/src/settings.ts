import { z } from 'zod';

/** The settings of one domain, as the relay applies them on top of its defaults. */
export interface DomainSettings {
  /** The domain's own mail server, `"host:port"`. */
  destination: string;
  /** Monitor mode: tag, never reject. */
  monitor?: boolean;
  /** Score thresholds; `null` switches an action off, absent keeps the relay's default. */
  thresholds?: { reject?: number | null; addHeader?: number | null; greylist?: number | null };
  /** Which scanners run for the domain (absent: the relay's default, on). */
  scanners?: { antivirus?: boolean; spam?: boolean; rbl?: boolean; greylist?: boolean };
  /** Senders always accepted (`allow`) or refused (`block`): full addresses or `"@domain"`. */
  senders?: { allow?: string[]; block?: string[] };
  /** TLS toward the destination. */
  tls?: 'opportunistic' | 'required';
  /** Address at the destination that quarantined mail is delivered to. */
  quarantine?: string;
}

/** Where a relay reads the settings of a domain. */
export interface DomainSettingsSource {
  /** The settings of `domain` (any case), or undefined when the domain is not served. */
  get(domain: string): DomainSettings | undefined;
}

/**
 * One transaction as the relay records it: metadata only, never the message.
 *
 * A transaction in monitor mode that would have been refused is recorded with the disposition
 * prefixed by `would-` (`would-reject`, `would-quarantine`, ...): that is what the rollout page
 * counts as "what monitor mode would have rejected".
 */
export interface TransactionRecord {
  /** ISO 8601 time in UTC. */
  time: string;
  /** Client IP address. */
  client: string;
  helo?: string;
  /** MAIL FROM address (`""` for a bounce). */
  sender: string;
  recipients: string[];
  /** The recipient domain the transaction counts for. */
  domain: string;
  messageId?: string;
  /** Message size in bytes. */
  size: number;
  /** `accept`, `reject`, `tempfail`, `quarantine`, `discard`, or `would-*` in monitor mode. */
  disposition: string;
  score: number;
  symbols: string[];
  direction: 'inbound' | 'outbound';
  /** The destination's reply to the message, such as `250 2.0.0 queued as 4F2`. */
  destinationReply?: string;
}

const DOMAIN_RE =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A domain name (lower-cased before the check). */
export const domainNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DOMAIN_RE, { error: 'a domain name such as "example.net"' });

/** A `"host:port"` address. */
export const hostPortSchema = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    error: 'a "host:port" address such as "10.0.0.5:25"',
  })
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { error: 'a port up to 65535' });

const ADDRESS_RE = /^[^@\s<>"]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** One sender entry: a full address or `"@domain"`. */
export const senderEntrySchema = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ADDRESS_RE.test(s) || (s.startsWith('@') && DOMAIN_RE.test(s.slice(1))), {
    error: 'a full address such as "someone@example.com" or "@example.com"',
  });

const threshold = z.number().min(-1000).max(1000).nullable().optional();

/** The zod schema of {@link DomainSettings}: the config file's `domains` entries and the settings form. */
export const domainSettingsSchema = z
  .strictObject({
    destination: hostPortSchema.describe('The domain\'s mail server, "host:port"'),
    monitor: z.boolean().optional().describe('Monitor mode: tag, never reject'),
    thresholds: z
      .strictObject({ reject: threshold, addHeader: threshold, greylist: threshold })
      .optional()
      .describe('Score thresholds; null switches an action off'),
    scanners: z
      .strictObject({
        antivirus: z.boolean().optional(),
        spam: z.boolean().optional(),
        rbl: z.boolean().optional(),
        greylist: z.boolean().optional(),
      })
      .optional()
      .describe('Which scanners run (absent: on)'),
    senders: z
      .strictObject({
        allow: z.array(senderEntrySchema).max(1000).optional(),
        block: z.array(senderEntrySchema).max(1000).optional(),
      })
      .optional()
      .describe('Senders always accepted or refused: addresses or "@domain"'),
    tls: z.enum(['opportunistic', 'required']).optional().describe('TLS toward the destination'),
    quarantine: z
      .string()
      .trim()
      .regex(ADDRESS_RE, { error: 'an address such as "quarantine@example.net"' })
      .optional()
      .describe('Quarantine address at the destination'),
  })
  .describe('The settings of one domain');

/** The config's `domains` map: domain name to settings. */
export const domainsSchema = z.record(domainNameSchema, domainSettingsSchema);

const ipSchema = z.union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address' });

/** The `admin:` section of the config file. */
export const adminConfigSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).describe('Address to listen on, such as "127.0.0.1"'),
        port: z.number().int().min(0).max(65535).describe('TCP port (0: any free port)'),
      })
      .describe('Where the interface listens'),
    database: z.string().min(1).describe('A SQLite file path, or a postgres:// URL shared with the relays'),
    tls: z
      .strictObject({
        cert: z.string().min(1).describe('PEM certificate file'),
        key: z.string().min(1).describe('PEM private key file'),
      })
      .optional()
      .describe('Serve HTTPS with this certificate (cookies are then marked Secure)'),
    relays: z
      .array(
        z.strictObject({
          name: domainNameSchema.describe("The relay's host name, the MX target"),
          addresses: z.array(ipSchema).min(1).describe('Its outgoing addresses, for the firewall rule'),
        }),
      )
      .optional()
      .describe('The relays, in MX priority order: shown in the rollout steps'),
    dns: z
      .array(z.union([hostPortSchema, ipSchema]))
      .min(1)
      .optional()
      .describe("DNS servers for the rollout page's live MX check (never the system resolver)"),
    submission: hostPortSchema.optional().describe("The relays' submission address, for outbound set-up"),
    keepDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('Days the verdict log keeps a transaction (default 30)'),
  })
  .describe("The domain administrators' web interface");

/** The `admin:` section of the config file, validated. */
export type AdminConfig = z.infer<typeof adminConfigSchema>;

/** The zod schema of {@link TransactionRecord}. */
export const transactionRecordSchema = z.strictObject({
  time: z.iso.datetime({ offset: true }),
  client: z.string().min(1).max(100),
  helo: z.string().max(255).optional(),
  sender: z.string().max(512),
  recipients: z.array(z.string().max(512)).max(1000),
  domain: domainNameSchema,
  messageId: z.string().max(998).optional(),
  size: z.number().int().min(0),
  disposition: z.string().regex(/^[a-z-]{1,32}$/),
  score: z.number().finite(),
  symbols: z.array(z.string().max(128)).max(500),
  direction: z.enum(['inbound', 'outbound']),
  destinationReply: z.string().max(1000).optional(),
});
