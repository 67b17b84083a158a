/**
 * DATA: scan the message while it streams in, then apply the verdict to the open destination
 * transaction. The sender hears 250 only after the destination accepted; every way out of here
 * ends the destination's transaction too, and records the transaction once.
 */
import type { Readable } from 'node:stream';
import type { Verdict } from '@mef/core';
import type { Transaction } from '@mef/core/hosts';
import type { SMTPServerDataStream } from 'smtp-server';
import { type DataAhead, dataAhead, deliver } from './deliver.js';
import { dropClient } from './onward.js';
import type { TransactionTimes } from './operations.js';
import { isReplyError, replyError } from './replies.js';
import type { RelaySection, TransactionRecord } from './schema.js';
import type { RelayStats, SessionState } from './session.js';

/** Called once per finished transaction. */
export type OnFinished = (
  record: TransactionRecord,
  times: TransactionTimes,
  verdict: Verdict | undefined,
) => void;

export interface DataPhaseOptions {
  relay: RelaySection;
  stats: RelayStats;
  onFinished: OnFinished | undefined;
}

/** Runs DATA for the session's open transaction; resolves with the 250 text or throws the reply. */
export async function runData(
  s: SessionState,
  stream: SMTPServerDataStream,
  o: DataPhaseOptions,
): Promise<string> {
  const tx = s.tx;
  const client = s.client;
  const route = s.route;
  if (!tx || !client || !route || !s.txState?.accepted.length) {
    stream.resume();
    throw replyError(503, '5.5.1', 'No valid recipients');
  }
  s.dataStream = stream;
  s.dataStarted = Date.now();
  let verdict: Verdict | undefined;
  let destinationReply: string | undefined;
  let disposition = 'tempfail';
  let finished = false;
  const times: TransactionTimes = { scanMs: 0, afterLastByteMs: 0, destinationMs: 0 };
  const t0 = performance.now();
  let lastByte = 0;
  let ahead: DataAhead | undefined;
  let over = false;
  stream.once('end', () => {
    lastByte = performance.now();
    if (over) return;
    // The whole message is here: DATA goes to the destination while the scan finishes. Not with
    // a quarantine address (a quarantined message goes to it in a new destination transaction).
    if (
      !stream.sizeExceeded &&
      !s.closed &&
      s.client === client &&
      client.usable &&
      !route.settings?.quarantine
    )
      ahead = dataAhead(client);
  });
  try {
    verdict = await tx.data(stream as Readable, { keep: true });
    const t1 = performance.now();
    times.scanMs = round(t1 - t0);
    if (lastByte) times.afterLastByteMs = round(t1 - lastByte);
    if (s.closed) throw replyError(421, '4.4.2', 'Client went away');
    if (stream.sizeExceeded) {
      disposition = 'reject';
      throw replyError(552, '5.3.4', 'Message size exceeds fixed limit');
    }
    if (s.txState.hops > o.relay.limits.maxHops) {
      disposition = 'reject';
      throw replyError(554, '5.4.6', `Too many hops (${s.txState.hops} Received fields): mail loop?`);
    }
    const out = await deliver({
      tx,
      verdict,
      client,
      route,
      stats: o.stats,
      sender: tx.context.mailFrom,
      ahead,
    });
    times.destinationMs = round(performance.now() - t1);
    finished = true;
    disposition = out.disposition;
    destinationReply = out.destinationReply;
    return out.message;
  } catch (err) {
    if (!isReplyError(err)) {
      o.stats.destinationFailures++;
      dropClient(s);
      throw replyError(
        451,
        '4.4.2',
        `Delivery to destination failed (${(err as Error).message}), try again later`,
      );
    }
    if (err.responseCode >= 500) disposition = 'reject';
    throw err;
  } finally {
    // A stream that ends only now (the transaction is over) sends no DATA.
    over = true;
    s.dataStream = undefined;
    // Not delivered: the destination's DATA (if sent) ends without the final dot.
    ahead?.send(undefined);
    if (ahead) await ahead.reply.catch(() => undefined);
    if (!finished && s.client?.usable) {
      // Refused before or during delivery: end the destination's transaction too.
      const r = await s.client.rset().catch(() => undefined);
      if (r?.code !== 250) dropClient(s);
    }
    if (s.client && !s.client.usable) dropClient(s);
    s.mailSent = false;
    if (verdict?.timings) times.stages = verdict.timings;
    record(s, tx, verdict, disposition, destinationReply, times, o.onFinished);
    s.tx = undefined;
    s.txState = undefined;
    s.route = undefined;
    await tx.dispose();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function record(
  s: SessionState,
  tx: Transaction,
  verdict: Verdict | undefined,
  disposition: string,
  destinationReply: string | undefined,
  times: TransactionTimes,
  cb: OnFinished | undefined,
): void {
  if (!cb) return;
  const ctx = tx.context;
  try {
    cb(
      {
        time: new Date().toISOString(),
        client: ctx.clientAddress,
        ...(ctx.helo ? { helo: ctx.helo } : {}),
        sender: ctx.mailFrom?.address ?? '',
        recipients: [...(s.txState?.accepted ?? [])],
        domain: s.route?.domain ?? '',
        ...(s.txState?.messageId ? { messageId: s.txState.messageId } : {}),
        size: tx.size,
        // A recipient that monitor mode let through at RCPT (a DNS-listed client, a blocked
        // sender) makes the delivered message a `would-` record too.
        disposition:
          disposition === 'accept' && s.txState?.wouldBe && verdict?.wouldBe === undefined
            ? `would-${s.txState.wouldBe}`
            : disposition,
        score: verdict?.score.value ?? 0,
        symbols: verdict?.symbols.map((x) => x.name) ?? [],
        direction: s.route?.direction ?? 'inbound',
        ...(destinationReply ? { destinationReply } : {}),
      },
      times,
      verdict,
    );
  } catch {
    // A failing observer must not change what the sender hears.
  }
}
