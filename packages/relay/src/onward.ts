/**
 * The onward connection of a session: opened at the first RCPT of a route, reused (from the
 * session or the pool) only toward the same destination with the same TLS policy, and ended
 * (RSET, or dropped) when the sender's transaction ends without delivery.
 */
import type { ClientPool } from './client-pool.js';
import { fromDestination, replyError, splitHostPort } from './replies.js';
import type { RelaySection } from './schema.js';
import type { RelayStats, Route, SessionState } from './session.js';
import { SmtpClient } from './smtp-client.js';

/** What opening an onward connection needs. */
export interface OnwardOptions {
  relay: RelaySection;
  pool: ClientPool;
  stats: RelayStats;
  /** CA certificates (PEM) that verify a destination whose TLS is `required`; default the system store. */
  destinationCa: Buffer | undefined;
}

/** Closes the session's onward connection, if any, and forgets it. */
export function dropClient(s: SessionState): void {
  s.client?.close();
  s.client = undefined;
  s.clientDestination = undefined;
  s.mailSent = false;
}

/** Ends the destination's open transaction (RSET), or drops the connection when that fails. */
export async function endDestinationTransaction(s: SessionState): Promise<void> {
  if (!s.client || !s.mailSent) return;
  const r = await s.client.rset().catch(() => undefined);
  if (r?.code !== 250) dropClient(s);
  s.mailSent = false;
}

/** An onward connection to this route's destination, opened or reused (never one to another). */
export async function ensureClient(s: SessionState, route: Route, o: OnwardOptions): Promise<SmtpClient> {
  if (s.client && (s.clientDestination !== route.destination || !s.client.usable)) {
    if (s.txState?.accepted.length) {
      throw replyError(451, '4.4.2', 'Connection to the destination lost, try again later');
    }
    const old = s.client;
    dropClient(s);
    void old.quit();
  }
  if (s.client) return s.client;
  const tls = route.settings?.tls ?? 'opportunistic';
  const poolKey = `${route.destination} ${tls}`;
  const pooled = o.pool.take(poolKey);
  if (pooled) {
    s.client = pooled;
    s.clientKey = poolKey;
    s.clientDestination = route.destination;
    s.mailSent = false;
    return pooled;
  }
  const { host, port } = splitHostPort(route.destination);
  let client: SmtpClient;
  try {
    client = await SmtpClient.open({
      host,
      port,
      name: o.relay.hostname,
      commandTimeout: o.relay.destinationTimeout,
      tls,
      // `required` means the destination proves who it is: a certificate for its host, signed
      // by the configured CA (or the system store). Opportunistic TLS only encrypts.
      ...(tls === 'required' ? { tlsVerify: true, ...(o.destinationCa ? { ca: o.destinationCa } : {}) } : {}),
    });
  } catch (err) {
    o.stats.destinationFailures++;
    const reply = (err as { reply?: Parameters<typeof fromDestination>[0] }).reply;
    if (reply && reply.code >= 500) throw fromDestination(reply, 'Destination refused the connection');
    throw replyError(
      451,
      '4.4.1',
      `Destination not reachable now (${(err as Error).message}), try again later`,
    );
  }
  s.client = client;
  s.clientDestination = route.destination;
  s.clientKey = poolKey;
  s.mailSent = false;
  client.keepAlive(o.relay.destinationKeepalive);
  return client;
}
