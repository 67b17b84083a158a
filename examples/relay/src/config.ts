import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'host:port, such as 192.0.2.10:25 or [2001:db8::1]:25');

/** Settings of one customer domain. */
export const domainSchema = z.object({
  /** The customer's own server, which accepts mail only from the relays. */
  destination: hostPort,
  /** Scan and tag, never reject: for bringing a domain over step by step. */
  monitor: z.boolean().default(false),
  thresholds: z
    .object({
      reject: z.number().nullable().optional(),
      addHeader: z.number().nullable().optional(),
      greylist: z.number().nullable().optional(),
    })
    .optional(),
});

export const relayConfigSchema = z.object({
  listen: z
    .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(2525) })
    .default({
      host: '127.0.0.1',
      port: 2525,
    }),
  /** The relay's name in its greeting and EHLO. */
  hostname: z.string().default('mef-relay.localhost'),
  /** Domains the relay accepts mail for; RCPT for any other domain is refused (no open relay). */
  domains: z.record(z.string(), domainSchema),
  /** Outgoing mail: from these networks, or authenticated, to this smarthost. */
  outbound: z
    .object({
      networks: z.array(z.string()).default([]),
      smarthost: hostPort,
    })
    .optional(),
  /** Largest message accepted, bytes. */
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  /** Timeouts toward the destination, ms. */
  destinationTimeout: z.number().int().positive().default(30_000),
});

export type RelayConfig = z.infer<typeof relayConfigSchema>;
export type DomainConfig = z.infer<typeof domainSchema>;

/** Parses a configuration; a bad one throws a TypeError naming the key path, the expectation and the value. */
export function parseRelayConfig(input: unknown): RelayConfig {
  const r = relayConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.join('.') || '(root)';
  let found: unknown = input;
  for (const k of issue.path) found = (found as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey];
  throw new TypeError(
    `Invalid relay configuration at ${path}: ${issue.message}; found ${JSON.stringify(found)}`,
  );
}
