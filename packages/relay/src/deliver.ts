import type { Readable } from 'node:stream';
import type { EnvelopeAddress, Verdict } from '@mef/core';
import type { Transaction } from '@mef/core/hosts';
import { fromDestination, fromVerdict } from './replies.js';
import type { RelayStats, Route } from './session.js';
import type { SmtpClient, SmtpReply } from './smtp-client.js';

/**
 * DATA sent to the destination at the sender's final dot, while the scan runs (one round trip
 * less between the verdict and the sender's 250): `send` gives it the message, or `undefined`
 * to end the destination's transaction without delivery (the connection is closed before the
 * final dot). Calling `send` again does nothing, so every way out can call it.
 */
export interface DataAhead {
  reply: Promise<SmtpReply | undefined>;
  send(body: Readable | undefined): void;
}

/** Sends DATA now; the message (or the decision not to deliver) follows through `send`. */
export function dataAhead(client: SmtpClient): DataAhead {
  let give: (body: Readable | undefined) => void = () => undefined;
  const body = new Promise<Readable | undefined>((resolve) => {
    give = resolve;
  });
  const reply = client.dataAhead(body);
  // Read by `deliver`; a failure is also seen there (or the connection is dropped anyway).
  reply.catch(() => undefined);
  return { reply, send: (b) => give(b) };
}

export interface DeliverInput {
  tx: Transaction;
  verdict: Verdict;
  client: SmtpClient;
  route: Route;
  stats: RelayStats;
  sender: EnvelopeAddress | undefined;
  /** DATA already sent (see {@link dataAhead}); never with a quarantine address. */
  ahead?: DataAhead | undefined;
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
  const { tx, verdict, client, route, stats, ahead } = input;
  const abandon = async () => {
    if (ahead) {
      ahead.send(undefined);
      await ahead.reply.catch(() => undefined);
    } else await client.rset().catch(() => undefined);
  };
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
  if (quarantineTo && ahead) {
    // Not reached (no DATA ahead with a quarantine address); never deliver to the recipients.
    await abandon();
    throw new Error('DATA was sent before the quarantine decision');
  }
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
  let reply: SmtpReply | undefined;
  if (ahead) {
    ahead.send(tx.output());
    reply = await ahead.reply;
    if (!reply) throw new Error('the destination transaction ended before the message');
  } else reply = await client.data(tx.output());
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
