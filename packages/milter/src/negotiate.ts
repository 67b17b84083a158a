import type { Phase } from '@mef/core';
import { MilterError } from './errors.js';
import { ActionFlag, Command, MILTER_VERSION, type Negotiated, ProtocolFlag } from './protocol.js';

/** Modifications we may ask for, when the MTA offers them. */
const WANTED_ACTIONS = ActionFlag.ADDHDRS | ActionFlag.CHGHDRS | ActionFlag.QUARANTINE;
/**
 * Steps we skip and replies we do not send, when the MTA offers to. DATA is neither skipped
 * (`SMFIP_NODATA`) nor left unanswered (`SMFIP_NR_DATA`): Postfix sends the envelope's
 * unanswered commands and DATA in one write and waits for DATA's answer, which acknowledges
 * them all, so the header and body that follow go out at once. Without an answer before end of
 * message, Postfix's next write (the message) waits under Nagle's algorithm for the milter
 * host's delayed ACK of the envelope: 40 ms a message on the bench machine's loopback (measured, see
 * bench/results/hosts.md, session 11), for one answer that costs a round trip.
 */
const WANTED_PROTOCOL =
  ProtocolFlag.NOUNKNOWN | ProtocolFlag.NR_HDR | ProtocolFlag.NR_EOH | ProtocolFlag.HDR_LEADSPC;
/** The replies `end-of-message` does without. */
const DEFERRED_REPLIES =
  ProtocolFlag.NR_CONN |
  ProtocolFlag.NR_HELO |
  ProtocolFlag.NR_MAIL |
  ProtocolFlag.NR_RCPT |
  ProtocolFlag.NR_BODY;

/**
 * Postfix's default `message_size_limit` (bytes). Postfix refuses a longer message itself, so
 * an engine limit at or above it never leads to SKIP and BODY needs no answer.
 */
export const POSTFIX_MESSAGE_SIZE_LIMIT = 10_240_000;

/** The no-reply flag of each engine phase a milter command runs. */
const PHASE_NO_REPLY: Partial<Record<Phase, number>> = {
  connect: ProtocolFlag.NR_CONN,
  helo: ProtocolFlag.NR_HELO,
  mailFrom: ProtocolFlag.NR_MAIL,
  rcptTo: ProtocolFlag.NR_RCPT,
  message: ProtocolFlag.NR_BODY,
};

/** The protocol flag that says a command gets no reply. */
export const NO_REPLY_FLAG: Record<string, number> = {
  [Command.CONNECT]: ProtocolFlag.NR_CONN,
  [Command.HELO]: ProtocolFlag.NR_HELO,
  [Command.MAIL]: ProtocolFlag.NR_MAIL,
  [Command.RCPT]: ProtocolFlag.NR_RCPT,
  [Command.DATA]: ProtocolFlag.NR_DATA,
  [Command.UNKNOWN]: ProtocolFlag.NR_UNKN,
  [Command.HEADER]: ProtocolFlag.NR_HDR,
  [Command.EOH]: ProtocolFlag.NR_EOH,
  [Command.BODY]: ProtocolFlag.NR_BODY,
};

/**
 * Option negotiation: the version both sides speak, the modifications we may make and the
 * steps and replies we do without, each only when the MTA offers it. `idle` are the engine
 * phases no stage has a hook at (`engine.stagesAt`): their commands always get CONTINUE, so
 * `each-command` asks for no reply there too (the engine still hears every command).
 * `maxMessageBytes` is the engine's size limit: BODY chunks are answered (for SKIP) only
 * when it is below Postfix's default `message_size_limit`.
 */
export function negotiate(
  offer: Negotiated,
  replyAt: 'each-command' | 'end-of-message',
  idle: readonly Phase[] = [],
  maxMessageBytes = 0,
): Negotiated {
  if (offer.version < 2) {
    throw new MilterError('MEF_MILTER_VERSION', `the MTA offered milter protocol version ${offer.version}`);
  }
  const version = Math.min(offer.version, MILTER_VERSION);
  let actions = WANTED_ACTIONS;
  let wanted = WANTED_PROTOCOL;
  if (replyAt === 'end-of-message') {
    actions |= ActionFlag.DELRCPT;
    wanted |= DEFERRED_REPLIES;
    // A refused recipient among accepted ones needs DELRCPT; without it, RCPT is answered.
    if ((offer.actions & ActionFlag.DELRCPT) === 0) wanted &= ~ProtocolFlag.NR_RCPT;
  } else {
    for (const phase of idle) wanted |= PHASE_NO_REPLY[phase] ?? 0;
    // BODY chunks are answered only where SKIP can matter: below Postfix's own default
    // `message_size_limit`, so the answer can be SKIP once the stages stopped reading.
    if (maxMessageBytes >= POSTFIX_MESSAGE_SIZE_LIMIT) wanted |= ProtocolFlag.NR_BODY;
    if ((wanted & ProtocolFlag.NR_BODY) === 0) wanted |= ProtocolFlag.SKIP;
  }
  // Flags beyond what an old MTA knows are not ours to ask for.
  const protocol = version >= 6 ? wanted & offer.protocol : 0;
  return { version, actions: actions & offer.actions, protocol };
}
