import type { Verdict } from '../verdict.js';
import { formatReply, toSmtpReply } from './smtp-reply.js';

/** One milter reply action (sendmail milter protocol, version 6). */
export type MilterAction =
  | { readonly cmd: 'c'; readonly name: 'continue' }
  | { readonly cmd: 'a'; readonly name: 'accept' }
  | { readonly cmd: 'd'; readonly name: 'discard' }
  | { readonly cmd: 'r'; readonly name: 'reject' }
  | { readonly cmd: 't'; readonly name: 'tempfail' }
  | { readonly cmd: 'y'; readonly name: 'replycode'; readonly text: string }
  | { readonly cmd: 'q'; readonly name: 'quarantine'; readonly reason: string }
  | { readonly cmd: 'h'; readonly name: 'addheader'; readonly header: string; readonly value: string }
  | {
      readonly cmd: 'i';
      readonly name: 'insheader';
      readonly index: number;
      readonly header: string;
      readonly value: string;
    }
  | {
      readonly cmd: 'm';
      readonly name: 'chgheader';
      readonly index: number;
      readonly header: string;
      readonly value: string;
    };

/**
 * Maps a verdict to milter actions for the end-of-message reply: header modifications
 * first (allowed only at end of message), then the final answer. A `set` or `remove`
 * without an index changes the first occurrence (milter index 1); an empty value deletes.
 * A subject prefix needs the current subject: pass it as `subject`.
 */
export function toMilter(v: Verdict, subject?: string): MilterAction[] {
  const out: MilterAction[] = [];
  if (v.disposition === 'accept' || v.disposition === 'quarantine') {
    for (const m of v.mutations) {
      switch (m.op) {
        case 'add':
          out.push({ cmd: 'h', name: 'addheader', header: m.name, value: m.value });
          break;
        case 'prepend':
          out.push({ cmd: 'i', name: 'insheader', index: 0, header: m.name, value: m.value });
          break;
        case 'set':
          out.push({ cmd: 'm', name: 'chgheader', index: m.index ?? 1, header: m.name, value: m.value });
          break;
        case 'remove':
          out.push({ cmd: 'm', name: 'chgheader', index: m.index ?? 1, header: m.name, value: '' });
          break;
        case 'subject':
          out.push({
            cmd: 'm',
            name: 'chgheader',
            index: 1,
            header: 'Subject',
            value: `${m.prefix} ${subject ?? ''}`.trimEnd(),
          });
          break;
      }
    }
  }
  switch (v.disposition) {
    case 'accept':
      out.push({ cmd: 'c', name: 'continue' });
      break;
    case 'quarantine':
      out.push({
        cmd: 'q',
        name: 'quarantine',
        reason: v.forced.find((f) => f.reason)?.reason ?? 'quarantined',
      });
      out.push({ cmd: 'c', name: 'continue' });
      break;
    case 'discard':
      out.push({ cmd: 'd', name: 'discard' });
      break;
    case 'reject':
    case 'tempfail':
      if (v.reply) {
        const r = toSmtpReply(v);
        out.push({ cmd: 'y', name: 'replycode', text: formatReply(r) });
      } else {
        out.push(v.disposition === 'reject' ? { cmd: 'r', name: 'reject' } : { cmd: 't', name: 'tempfail' });
      }
      break;
  }
  return out;
}
