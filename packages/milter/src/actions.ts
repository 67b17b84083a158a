import type { Logger, Verdict } from '@mef/core';
import { type MilterAction, toMilter } from '@mef/core/hosts';
import { encodeFrame, joinStrings } from './frame.js';
import { ActionFlag, Reply } from './protocol.js';

/** The action bit a modification needs. */
const ACTION_BIT: Partial<Record<MilterAction['cmd'], number>> = {
  h: ActionFlag.ADDHDRS,
  i: ActionFlag.ADDHDRS,
  m: ActionFlag.CHGHDRS,
  q: ActionFlag.QUARANTINE,
};

/** Encodes one milter action as a reply frame. */
export function encodeAction(a: MilterAction, leadingSpace = false): Buffer {
  const value = (v: string) => (leadingSpace && v && !/^[ \t]/.test(v) ? ` ${v}` : v);
  switch (a.cmd) {
    case 'y':
      return encodeFrame(a.cmd, joinStrings(a.text));
    case 'q':
      return encodeFrame(a.cmd, joinStrings(a.reason));
    case 'h':
      return encodeFrame(a.cmd, joinStrings(a.header, value(a.value)));
    case 'i':
    case 'm': {
      const index = Buffer.alloc(4);
      index.writeUInt32BE(a.index >>> 0, 0);
      return encodeFrame(a.cmd, Buffer.concat([index, joinStrings(a.header, a.value ? value(a.value) : '')]));
    }
    default:
      return encodeFrame(a.cmd);
  }
}

/** A DELRCPT frame: the recipient exactly as the MTA gave it at RCPT (`<user@example.org>`). */
export function encodeDelRcpt(recipient: string): Buffer {
  return encodeFrame(Reply.DELRCPT, joinStrings(recipient));
}

/** A verdict that ends the mail at an envelope phase (reject, tempfail, discard), or undefined. */
export function isFinal(v: Verdict): boolean {
  return v.disposition === 'reject' || v.disposition === 'tempfail' || v.disposition === 'discard';
}

/** The reply to an envelope phase: the final answer when there is one, else continue. */
export function phaseAction(v: Verdict): MilterAction {
  return isFinal(v) ? (toMilter(v).at(-1) as MilterAction) : { cmd: 'c', name: 'continue' };
}

/** The verdict's actions at end of message, without modifications the MTA did not allow. */
export function permittedActions(
  v: Verdict,
  allowed: number,
  subject: string | undefined,
  log: Logger,
): MilterAction[] {
  const out: MilterAction[] = [];
  for (const a of toMilter(v, subject)) {
    const bit = ACTION_BIT[a.cmd];
    if (bit !== undefined && (allowed & bit) === 0) {
      log.warn({ action: a.name }, 'milter: the MTA did not allow this modification; skipped');
      continue;
    }
    out.push(a);
  }
  return out;
}
