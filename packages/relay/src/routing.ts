import { domainOf, hasSenderRouting, replyError } from './replies.js';
import type { DomainSettingsSource, RelaySection } from './schema.js';
import type { Route } from './session.js';

/** What deciding a recipient's route needs. */
export interface RoutingInput {
  /** Running as a submission listener with a smarthost (`''` when the next hop is the MX). */
  submission: { smarthost: string } | undefined;
  domains: DomainSettingsSource;
  outbound: RelaySection['outbound'];
  /** The client authenticated, or is in the trusted networks. */
  trusted: boolean;
}

/**
 * Which destination a recipient goes to, or the SMTP error (never an open relay): a served
 * domain goes to its destination, anything else only from a trusted client to the smarthost.
 * Sender-specified routing (`a%b@c`, `b!a@c`) is refused, as Postfix does by default.
 */
export function routeOf(rcpt: string, input: RoutingInput): Route {
  if (hasSenderRouting(rcpt)) throw replyError(550, '5.7.1', `Sender-specified routing refused: <${rcpt}>`);
  const domain = domainOf(rcpt);
  if (input.submission) {
    if (!input.trusted) throw replyError(530, '5.7.0', 'Authentication required');
    // With MX delivery the next hop is resolved by the caller (asynchronous); it is the key.
    const smarthost = input.submission.smarthost;
    return {
      key: `out:${smarthost}`,
      destination: smarthost,
      direction: 'outbound',
      domain,
      settings: undefined,
    };
  }
  const settings = domain ? input.domains.get(domain) : undefined;
  if (settings) {
    return { key: `in:${domain}`, destination: settings.destination, direction: 'inbound', domain, settings };
  }
  const out = input.outbound;
  if (out && input.trusted) {
    return {
      key: `out:${out.smarthost}`,
      destination: out.smarthost,
      direction: 'outbound',
      domain,
      settings: undefined,
    };
  }
  throw replyError(550, '5.7.1', `Relaying to <${rcpt}> denied`);
}
