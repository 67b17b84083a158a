import type { EnvelopeAddress, Verdict } from '@mef/core';
import type { Transaction } from '@mef/core/hosts';
import { fromDestination, fromVerdict } from './replies.js';
import type { RelayStats, Route } from './session.js';
import type { SmtpClient } from './smtp-client.js';

export interface DeliverInput {
  tx: Transaction;
  verdict: Verdict;
  client: SmtpClient;
  route: Route;
  stats: RelayStats;
  sender: EnvelopeAddress | undefined;
}

export interface Delivered {
  /** The text of the 250 reply to the sender. */
  message: string;
  disposition: string;
  destinationReply?: string;
}

function replyText(lines: readonly string[]): string {
  return lines
    .join(' ')
    .replace(/[\r\n]/g, ' ')
    .slice(0, 200);
}

/**
 * Applies the verdict to the open destination transaction: forwards the message (with the
 * verdict's header changes) and returns the 250 text, or ends the destination transaction and
 * throws the reply for the sender. Quarantine goes to the domain's quarantine address at the
 * destination, instead of the recipients; the relay keeps nothing.
 */
export async function deliver(input: DeliverInput): Promise<Delivered> {
  const { tx, verdict, client, route, stats } = input;
  const abandon = () => client.rset().catch(() => undefined);
  switch (verdict.disposition) {
    case 'reject':
      stats.rejected++;
      await abandon();
      throw fromVerdict(verdict);
    case 'tempfail':
      stats.tempfailed++;
      await abandon();
      throw fromVerdict(verdict);
    case 'discard':
      stats.discarded++;
      await abandon();
      return { message: `2.0.0 Ok: ${tx.id}`, disposition: 'discard' };
    default:
      break;
  }
  const quarantineTo = verdict.disposition === 'quarantine' ? route.settings?.quarantine : undefined;
  if (quarantineTo) {
    // A new destination transaction with the quarantine address as its only recipient.
    const r = await client.rset();
    if (r.code !== 250) throw fromDestination(r, 'Destination refused RSET');
    const m = await client.mail(input.sender?.address ?? '', input.sender?.params ?? {});
    if (m.code !== 250) throw fromDestination(m, 'Destination refused the sender for quarantine');
    const q = await client.rcpt(quarantineTo);
    if (q.code !== 250 && q.code !== 251)
      throw fromDestination(q, 'Destination refused the quarantine address');
  }
  const reply = await client.data(tx.output());
  const destinationReply = `${reply.code} ${replyText(reply.lines)}`;
  if (reply.code !== 250) {
    stats.destinationFailures++;
    throw fromDestination(reply, 'Destination did not accept the message');
  }
  if (verdict.disposition === 'quarantine') stats.quarantined++;
  else stats.accepted++;
  if (verdict.disposition === 'quarantine' && !quarantineTo) {
    // No quarantine address: delivered tagged, as the verdict's headers mark it.
    return {
      message: `2.0.0 Ok: ${tx.id} delivered to destination (${replyText(reply.lines)})`,
      disposition: 'quarantine-tagged',
      destinationReply,
    };
  }
  return {
    message: `2.0.0 Ok: ${tx.id} delivered to destination (${replyText(reply.lines)})`,
    disposition: verdict.disposition,
    destinationReply,
  };
}
