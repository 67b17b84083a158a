import { z } from 'zod';

const policy = z.enum(['tempfail', 'accept', 'reject']).describe('What a failure of this scanner turns into');
const detectionAction = z.enum(['reject', 'quarantine', 'tag']);
const ms = z.number().int().positive().describe('Milliseconds');
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):\d{1,5}$/, {
  error: 'a "host:port" address such as "127.0.0.1:783"',
});

/** One DNS list: a zone, optionally with a preset's return-code map and what it checks. */
export const rblListSchema = z
  .strictObject({
    zone: z.string().min(1).describe('The DNS zone, such as "zen.spamhaus.org"'),
    preset: z
      .enum(['zen', 'dbl', 'surbl', 'dnswl', 'generic'])
      .optional()
      .describe('Return-code map to use; default: known by the zone name, else generic'),
    type: z
      .enum(['ip', 'uri', 'domain'])
      .optional()
      .describe('ip: client and Received hops; uri: link domains; domain: HELO and sender domains'),
    score: z.number().optional().describe('Score of a listing for a generic zone (default 2)'),
    name: z
      .string()
      .regex(/^[A-Z0-9_]+$/, 'an UPPER_SNAKE name')
      .optional()
      .describe('Symbol suffix for a generic zone'),
  })
  .describe('A DNS list');

/**
 * The filter settings of the config file, shared by `mef scan` and the relay: thresholds,
 * failure policy, the built-in rules, banned attachments, Bayes, clamd, spamd, rspamd and DNS
 * lists. Every key is optional.
 */
export const filtersShape = {
  thresholds: z
    .strictObject({
      reject: z.number().nullable().optional(),
      addHeader: z.number().nullable().optional(),
      greylist: z.number().nullable().optional(),
    })
    .optional()
    .describe('Score thresholds; null switches an action off'),
  onError: policy.optional().describe('Default failure policy of the scanners'),
  stageTimeout: ms.optional().describe('Per-stage timeout (ms)'),
  monitor: z.boolean().optional().describe('Monitor mode: tag, never reject'),
  rules: z
    .strictObject({
      enabled: z.boolean().optional(),
      disable: z.array(z.string()).optional().describe('Rule names to switch off'),
      scores: z.record(z.string(), z.number()).optional().describe('New scores by rule name'),
      spamassassin: z
        .array(z.string().min(1))
        .optional()
        .describe('Folders of SpamAssassin .cf rule files, run natively (such as /usr/share/spamassassin)'),
    })
    .optional()
    .describe('The built-in spam rules (on by default)'),
  attachments: z
    .strictObject({
      enabled: z.boolean().optional(),
      extensions: z.array(z.string().min(1)).optional().describe('Banned extensions, without the dot'),
      action: detectionAction.optional(),
    })
    .optional()
    .describe('The banned-attachment policy (on by default)'),
  bayes: z
    .strictObject({
      enabled: z
        .union([z.boolean(), z.literal('auto')])
        .optional()
        .describe('auto (default): on when the model file exists'),
      model: z.string().min(1).optional().describe('Model file written by `mef train`'),
      redis: z
        .string()
        .regex(/^rediss?:\/\//, { error: 'a redis:// URL' })
        .optional()
        .describe('Use the shared Redis store (written by `mef train --redis`) instead of a file'),
    })
    .optional()
    .describe('The Bayes classifier'),
  scores: z
    .string()
    .min(1)
    .optional()
    .describe('Rule and Bayes scores written by `mef train --scores` (off unless configured)'),
  clamav: z
    .strictObject({
      hosts: z.array(z.string().min(1)).min(1).describe('clamd addresses: "host:port" or a socket path'),
      onError: policy.optional(),
      scanTimeout: ms.optional().describe('Wait for the scanner to take the message and answer (ms)'),
      maxSize: z.number().int().positive().optional(),
    })
    .optional()
    .describe('ClamAV clamd (off unless configured)'),
  spamassassin: z
    .strictObject({
      host: z
        .union([hostPort, z.string().regex(/^\//)], { error: 'a "host:port" address or a socket path' })
        .describe('spamd address: "host:port" or a unix socket path'),
      onError: policy.optional(),
      scanTimeout: ms.optional().describe('Wait for the scanner to take the message and answer (ms)'),
    })
    .optional()
    .describe('SpamAssassin spamd (off unless configured)'),
  rspamd: z
    .strictObject({
      url: z.url().describe('rspamd worker URL, such as http://127.0.0.1:11333'),
      onError: policy.optional(),
      scanTimeout: ms.optional().describe('Wait for the scanner to take the message and answer (ms)'),
    })
    .optional()
    .describe('rspamd (off unless configured)'),
  rbl: z
    .strictObject({
      dns: z
        .array(z.union([hostPort, z.ipv4(), z.ipv6()], { error: 'an IP address with an optional port' }))
        .min(1, { error: 'at least one DNS server (--dns host:port); MEF never asks the system resolver' })
        .describe('DNS servers to ask'),
      lists: z
        .array(z.union([z.string().min(1), rblListSchema]))
        .optional()
        .describe('Lists for the client IP and Received hops: "ZONE", "zen", "zen=ZONE" or an object'),
      uribl: z
        .array(z.union([z.string().min(1), rblListSchema]))
        .optional()
        .describe('Lists checked for link domains'),
      onError: policy.optional(),
      queryTimeout: ms.optional().describe('Wait for one DNS query (ms)'),
    })
    .optional()
    .describe('DNS blocklists (off unless configured)'),
  auth: z
    .strictObject({
      enabled: z.boolean().optional().describe('On when the section is present (default true)'),
      dns: z
        .array(z.union([hostPort, z.ipv4(), z.ipv6()], { error: 'an IP address with an optional port' }))
        .min(1, { error: 'at least one DNS server (--dns host:port); MEF never asks the system resolver' })
        .describe('DNS servers to ask'),
      spf: z.boolean().optional(),
      dkim: z.boolean().optional(),
      dmarc: z.boolean().optional(),
      arc: z.boolean().optional(),
      dmarcReject: z
        .enum(['reject', 'quarantine', 'score'])
        .optional()
        .describe('A DMARC failure under p=reject: reject (550 5.7.1), quarantine, or score only (default)'),
      dmarcQuarantine: z
        .enum(['quarantine', 'score'])
        .optional()
        .describe('A DMARC failure under p=quarantine: quarantine, or score only (default)'),
      hostname: z.string().min(1).optional().describe('authserv-id of Authentication-Results'),
      onError: policy.optional(),
      queryTimeout: ms.optional().describe('Wait for one DNS query (ms)'),
    })
    .optional()
    .describe('SPF, DKIM, DMARC and ARC (off unless configured)'),
  greylist: z
    .strictObject({
      enabled: z.boolean().optional().describe('On when the section is present (default true)'),
      redis: z
        .string()
        .regex(/^rediss?:\/\//, { error: 'a redis:// URL' })
        .optional()
        .describe('Share the triplets with the other relays in this Redis (default: memory)'),
      delay: ms
        .optional()
        .describe('How long a new triplet waits before a retry passes (ms, default 300000)'),
      window: ms.optional().describe('How long a retry still counts (ms, default 86400000)'),
      remember: ms.optional().describe('How long a triplet that passed is remembered (ms, default 35 days)'),
    })
    .optional()
    .describe('Greylisting of mail that scores 4 to 15 (relays only; `mef scan` never defers)'),
};

/** The filter settings as a schema of their own. */
export const filtersSchema = z.strictObject(filtersShape);
export type FilterSettings = z.infer<typeof filtersSchema>;
