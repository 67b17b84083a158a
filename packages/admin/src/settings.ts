import {
  type DomainSettings,
  type DomainSettingsSource,
  destinationSchema,
  domainNameSchema,
  domainSettingsSchema,
  domainsSchema,
  type TransactionRecord,
  transactionRecordSchema,
} from '@mef/relay';
import { z } from 'zod';

// The per-domain settings and the verdict-log record are the relay's: one schema for the config
// file's `relay.domains`, the relay and the settings form.
export {
  type DomainSettings,
  type DomainSettingsSource,
  destinationSchema,
  domainNameSchema,
  domainSettingsSchema,
  domainsSchema,
  type TransactionRecord,
  transactionRecordSchema,
};

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
      .array(z.union([destinationSchema, ipSchema]))
      .min(1)
      .optional()
      .describe("DNS servers for the rollout page's live MX check (never the system resolver)"),
    submission: destinationSchema.optional().describe("The relays' submission address, for outbound set-up"),
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
