/**
 * The Sendmail milter protocol, version 6, as Postfix and Sendmail speak it. There is no
 * RFC: the facts below come from libmilter's `mfdef.h` and Postfix's `milter8.c`.
 */

/** Commands the MTA sends (one byte after the length). */
export const Command = Object.freeze({
  ABORT: 'A',
  BODY: 'B',
  CONNECT: 'C',
  MACRO: 'D',
  BODYEOB: 'E',
  HELO: 'H',
  QUIT_NC: 'K',
  HEADER: 'L',
  MAIL: 'M',
  EOH: 'N',
  OPTNEG: 'O',
  QUIT: 'Q',
  RCPT: 'R',
  DATA: 'T',
  UNKNOWN: 'U',
} as const);

/** Replies the milter sends. */
export const Reply = Object.freeze({
  ADDRCPT: '+',
  DELRCPT: '-',
  ACCEPT: 'a',
  REPLBODY: 'b',
  CONTINUE: 'c',
  DISCARD: 'd',
  ADDHEADER: 'h',
  INSHEADER: 'i',
  CHGHEADER: 'm',
  PROGRESS: 'p',
  QUARANTINE: 'q',
  REJECT: 'r',
  TEMPFAIL: 't',
  REPLYCODE: 'y',
  /** Skip the rest of the body (`SMFIR_SKIP`): only as the reply to a BODY chunk, with `SMFIP_SKIP`. */
  SKIP: 's',
  OPTNEG: 'O',
} as const);

/** Action flags (`SMFIF_*`): the modifications a milter may make at end of message. */
export const ActionFlag = Object.freeze({
  ADDHDRS: 0x01,
  CHGBODY: 0x02,
  ADDRCPT: 0x04,
  DELRCPT: 0x08,
  CHGHDRS: 0x10,
  QUARANTINE: 0x20,
  CHGFROM: 0x40,
  ADDRCPT_PAR: 0x80,
  SETSYMLIST: 0x100,
} as const);

/** Protocol flags (`SMFIP_*`): stages the MTA skips, stages it expects no reply to. */
export const ProtocolFlag = Object.freeze({
  NOCONNECT: 0x1,
  NOHELO: 0x2,
  NOMAIL: 0x4,
  NORCPT: 0x8,
  NOBODY: 0x10,
  NOHDRS: 0x20,
  NOEOH: 0x40,
  NR_HDR: 0x80,
  NOUNKNOWN: 0x100,
  NODATA: 0x200,
  SKIP: 0x400,
  RCPT_REJ: 0x800,
  NR_CONN: 0x1000,
  NR_HELO: 0x2000,
  NR_MAIL: 0x4000,
  NR_RCPT: 0x8000,
  NR_DATA: 0x10000,
  NR_UNKN: 0x20000,
  NR_EOH: 0x40000,
  NR_BODY: 0x80000,
  HDR_LEADSPC: 0x100000,
} as const);

/** The protocol version this implementation speaks. */
export const MILTER_VERSION = 6;

/** One decoded frame: the command byte and its payload. */
export interface Frame {
  readonly command: string;
  readonly data: Buffer;
}

/** What option negotiation settled on. */
export interface Negotiated {
  readonly version: number;
  readonly actions: number;
  readonly protocol: number;
}
