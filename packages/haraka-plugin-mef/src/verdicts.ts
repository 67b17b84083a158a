/** What passes between Haraka's API and the engine: the message stream, the verdict's answer. */
import { Writable } from 'node:stream';
import type { HeaderMutation, Verdict } from '@mef/core';
import { harakaCodes, toHaraka } from '@mef/core/hosts';
import type { HarakaAddress, HarakaNext, HarakaTransaction } from './haraka.js';

/** Answers a hook from a verdict (core's `toHaraka`): DENY, DENYSOFT, DENYDISCONNECT or CONT. */
export function answer(next: HarakaNext, v: Verdict, tx?: HarakaTransaction | null): void {
  const a = toHaraka(v);
  if (tx && a.quarantine) tx.notes.quarantine = 'mef';
  if (tx && a.discard) tx.notes.discard = true;
  if (a.code === harakaCodes.CONT) next();
  else next(a.code, a.msg);
}

export function addressOf(a: HarakaAddress | undefined): string {
  if (!a) return '';
  const v = typeof a.address === 'function' ? a.address() : a.address;
  if (typeof v === 'string') return v;
  return a.user ? (a.host ? `${a.user}@${a.host}` : a.user) : '';
}

/** Bytes of the message gathered before they go to the engine (or its thread) as one chunk. */
const BATCH_BYTES = 64 * 1024;

/**
 * Feeds Haraka's message stream to `write`, with backpressure. Haraka's stream hands over one
 * line at a time (its line transformer); the lines are gathered into one chunk of up to 64 KiB
 * (a message under it is one `write` at its end), so the engine, or the thread, gets a few
 * chunks a message instead of one per line.
 */
export function feed(htx: HarakaTransaction, write: (chunk: Buffer) => Promise<void> | void): Promise<void> {
  return new Promise((resolve, reject) => {
    let held: Buffer[] = [];
    let heldBytes = 0;
    /** Writes what is held as one chunk. */
    const flush = (): Promise<void> | void => {
      if (heldBytes === 0) return;
      const chunk = held.length === 1 ? (held[0] as Buffer) : Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      return write(chunk);
    };
    const after = (p: Promise<void> | void, done: (err?: Error | null) => void) => {
      if (p) p.then(() => done(), done);
      else done();
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes < BATCH_BYTES) return done();
        after(flush(), done);
      },
      final(done) {
        after(flush(), (err) => {
          done(err);
          if (!err) resolve();
        });
      },
    });
    sink.on('error', reject);
    htx.message_stream.pipe(sink, { line_endings: '\r\n', dot_stuffed: true });
  });
}

/** Applies a verdict's header changes through Haraka's transaction API. */
export function applyMutations(htx: HarakaTransaction, mutations: readonly HeaderMutation[]): void {
  for (const m of mutations) {
    switch (m.op) {
      case 'add':
        htx.add_header(m.name, m.value);
        break;
      case 'prepend':
        htx.add_leading_header(m.name, m.value);
        break;
      case 'set':
        htx.remove_header(m.name);
        htx.add_header(m.name, m.value);
        break;
      case 'remove':
        htx.remove_header(m.name);
        break;
      case 'subject': {
        const subject = htx.header.get('Subject').trim();
        htx.remove_header('Subject');
        htx.add_header('Subject', `${m.prefix} ${subject}`.trimEnd());
        break;
      }
    }
  }
}

/** Records the verdict in `transaction.results`, applies its header changes and answers. */
export function conclude(
  plugin: object,
  htx: HarakaTransaction,
  next: HarakaNext,
  v: Verdict,
  direction: string,
  user: string | undefined,
): void {
  htx.results.add(plugin, {
    disposition: v.disposition,
    score: v.score.value,
    action: v.score.action,
    spam: v.spam,
    symbols: v.symbols.map((s) => ({
      name: s.name,
      score: s.score,
      ...(s.options ? { options: s.options } : {}),
    })),
    errors: v.errors.map((e) => `${e.stage}: ${e.code}`),
    direction,
    // Haraka's one-line summary; given, so haraka-results need not build it from every field.
    human: `${v.disposition} score=${v.score.value}`,
    ...(user !== undefined ? { user } : {}),
    ...(v.reply ? { reply: v.reply } : {}),
  });
  if (v.disposition === 'accept' || v.disposition === 'quarantine') applyMutations(htx, v.mutations);
  answer(next, v, htx);
}
