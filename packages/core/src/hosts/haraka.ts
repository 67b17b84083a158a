import type { Verdict } from '../verdict.js';
import { toSmtpReply } from './smtp-reply.js';

/** Haraka's return codes (the numbers of `haraka-constants`). */
export const harakaCodes = Object.freeze({
  CONT: 900,
  STOP: 901,
  DENY: 902,
  DENYSOFT: 903,
  DENYDISCONNECT: 904,
  DISCONNECT: 905,
  OK: 906,
  DENYSOFTDISCONNECT: 909,
});

/** A Haraka hook answer: `next(code, msg)`. */
export interface HarakaAnswer {
  readonly name: keyof typeof harakaCodes;
  readonly code: number;
  /** The reply text, with the enhanced code first, as Haraka sends it. */
  readonly msg: string | undefined;
  /** For quarantine: Haraka has no such return code; the host sets a note and accepts. */
  readonly quarantine: boolean;
  /** For discard: the host should accept and drop (Haraka's `queue.discard` note). */
  readonly discard: boolean;
}

/** Maps a verdict to a Haraka hook answer. Accept is `CONT` so later plugins still run. */
export function toHaraka(v: Verdict): HarakaAnswer {
  const reply = toSmtpReply(v);
  const msg = v.reply ? `${reply.enhanced} ${reply.lines.join(' ')}` : undefined;
  const pick = (name: keyof typeof harakaCodes) => ({ name, code: harakaCodes[name] });
  switch (v.disposition) {
    case 'reject':
      return { ...pick(v.disconnect ? 'DENYDISCONNECT' : 'DENY'), msg, quarantine: false, discard: false };
    case 'tempfail':
      return {
        ...pick(v.disconnect ? 'DENYSOFTDISCONNECT' : 'DENYSOFT'),
        msg,
        quarantine: false,
        discard: false,
      };
    case 'quarantine':
      return { ...pick('CONT'), msg: undefined, quarantine: true, discard: false };
    case 'discard':
      return { ...pick('CONT'), msg: undefined, quarantine: false, discard: true };
    case 'accept':
      return { ...pick('CONT'), msg: undefined, quarantine: false, discard: false };
  }
}
