/**
 * What the forward client writes: the MAIL FROM line with the parameters the destination
 * supports, and the message in DATA form, written in as few writes as the socket allows.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

const DOT = Buffer.from('.');
const CR = Buffer.from('\r');

/**
 * Converts a message to SMTP DATA form: CRLF line ends, leading dots doubled. Jumps from line
 * break to line break (`indexOf`), so a message with CRLF lines and no leading dots is passed on
 * as one piece per chunk.
 */
export function* dotStuff(
  chunk: Buffer,
  state: { atLineStart: boolean; lastCR: boolean },
): Generator<Buffer> {
  const n = chunk.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    if (state.atLineStart && chunk[i] === 0x2e) {
      yield chunk.subarray(start, i);
      yield DOT;
      start = i;
    }
    const lf = chunk.indexOf(0x0a, i);
    if (lf === -1) {
      state.atLineStart = false;
      state.lastCR = chunk[n - 1] === 0x0d;
      break;
    }
    // The byte before the line feed may be the last of the previous chunk.
    if (!(lf > 0 ? chunk[lf - 1] === 0x0d : state.lastCR)) {
      yield chunk.subarray(start, lf);
      yield CR;
      start = lf;
    }
    state.atLineStart = true;
    state.lastCR = false;
    i = lf + 1;
  }
  if (start < n) yield chunk.subarray(start);
}

/** MAIL FROM with the parameters the destination supports (8BITMIME, SMTPUTF8, SIZE). */
export function mailCommand(
  from: string,
  params: Readonly<Record<string, string | true>>,
  extensions: ReadonlySet<string>,
): string {
  const args: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    const key = k.toUpperCase();
    if (key === 'BODY' && extensions.has('8BITMIME') && /^(7BIT|8BITMIME)$/i.test(String(v))) {
      args.push(`BODY=${String(v).toUpperCase()}`);
    } else if (key === 'SMTPUTF8' && extensions.has('SMTPUTF8')) args.push('SMTPUTF8');
    else if (key === 'SIZE' && extensions.has('SIZE') && /^\d+$/.test(String(v))) args.push(`SIZE=${v}`);
  }
  return `MAIL FROM:<${from}>${args.length ? ` ${args.join(' ')}` : ''}`;
}

/**
 * Writes a message in DATA form (dot-stuffed, CRLF, ending with a line break), corked so that
 * the pieces of each chunk leave together; uncorked while waiting for `drained` when the socket's
 * buffer is full. Resolves with the socket still corked, so that the caller's final dot leaves
 * in the same write (the caller uncorks); uncorks before it throws.
 */
export async function writeBody(
  socket: Socket,
  message: Readable,
  io: { check: () => void; drained: () => Promise<void> },
): Promise<void> {
  const state = { atLineStart: true, lastCR: false };
  let endsWithNewline = true;
  socket.cork();
  try {
    for await (const chunk of message) {
      const b = chunk as Buffer;
      if (!b.length) continue;
      for (const piece of dotStuff(b, state)) {
        io.check();
        if (piece.length && !socket.write(piece)) {
          socket.uncork();
          try {
            await io.drained();
          } finally {
            socket.cork();
          }
        }
      }
      endsWithNewline = state.atLineStart;
    }
    io.check();
    if (!endsWithNewline) socket.write('\r\n');
  } catch (err) {
    socket.uncork();
    throw err;
  }
}

/**
 * Resolves true when the socket drains (or closes: the caller sees why), false after `timeout`
 * ms. Its listeners are removed however the wait ends: one message waits many times on one socket.
 */
export function waitDrain(socket: Socket, timeout: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (socket.destroyed) {
      resolve(true);
      return;
    }
    const done = (drained: boolean) => {
      clearTimeout(timer);
      socket.off('drain', onEvent);
      socket.off('close', onEvent);
      resolve(drained);
    };
    const onEvent = () => done(true);
    // A socket error is followed by 'close'; the client records the error itself.
    const timer = setTimeout(() => done(false), timeout);
    socket.on('drain', onEvent);
    socket.on('close', onEvent);
  });
}
