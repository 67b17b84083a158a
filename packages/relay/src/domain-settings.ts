import { z } from 'zod';

/**
 * The settings of one domain, written once for the config file's `relay.domains`, the relay and
 * the admin interface (`@mef/admin` imports them from here).
 */
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

/** Where per-domain settings come from; the relay asks it for every transaction (sync, snapshot). */
export interface DomainSettingsSource {
  /** The settings of `domain` (any case), or undefined when the domain is not served. */
  get(domain: string): DomainSettings | undefined;
  /**
   * Whether any domain is in monitor mode now. A source without it counts as "maybe": the relay
   * then refuses a DNS-listed client at RCPT, where the recipient's domain is known, never at
   * connect (`relay.dnsLists.at: connect`).
   */
  anyMonitored?(): boolean;
}

/**
 * One record per finished transaction: metadata only, never the message.
 *
 * A transaction in monitor mode that would have been refused is recorded with the refusal
 * prefixed by `would-` (`would-reject`, `would-tempfail`, `would-quarantine`, `would-discard`):
 * what monitor mode would have refused so far.
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

/** A domain name with at least one dot (lower-cased before the check). */
export const domainNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DOMAIN_RE, { error: 'a domain name such as "example.net"' });

/** A destination `"host:port"`: a name, an IPv4 address or a bracketed IPv6 address, and a port. */
export const destinationSchema = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    error: 'a "host:port" address such as "192.0.2.10:25" or "[2001:db8::1]:25"',
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

/** The zod schema of {@link DomainSettings}: the config file's `relay.domains` entries and the admin settings form. */
export const domainSettingsSchema = z
  .strictObject({
    destination: destinationSchema.describe('The customer server, which accepts mail only from the relays'),
    monitor: z.boolean().optional().describe('Scan and tag, never reject: for bringing a domain over'),
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
      .describe('Switch scanner groups off for this domain (all on by default)'),
    senders: z
      .strictObject({
        allow: z.array(senderEntrySchema).max(1000).optional(),
        block: z.array(senderEntrySchema).max(1000).optional(),
      })
      .optional()
      .describe('Full addresses or "@domain": allow skips spam and list checks, block rejects'),
    tls: z
      .enum(['opportunistic', 'required'])
      .optional()
      .describe('TLS toward the destination; required also verifies its certificate'),
    quarantine: z
      .string()
      .trim()
      .regex(ADDRESS_RE, { error: 'an address such as "quarantine@example.net"' })
      .optional()
      .describe('Quarantined mail goes to this address at the destination'),
  })
  .describe('The settings of one domain');

/** The `domains` map: domain name to {@link domainSettingsSchema}. */
export const domainsSchema = z.record(domainNameSchema, domainSettingsSchema);

/** The zod schema of {@link TransactionRecord}, for a verdict log that checks what it stores. */
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
