const DOT = Buffer.from('.');
const CR = Buffer.from('\r');

/** Converts a message to SMTP DATA form: CRLF line ends, leading dots doubled. */
export function* dotStuff(
  chunk: Buffer,
  state: { atLineStart: boolean; lastCR: boolean },
): Generator<Buffer> {
  let start = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (state.atLineStart && c === 0x2e) {
      yield chunk.subarray(start, i);
      yield DOT;
      start = i;
    }
    if (c === 0x0a && !state.lastCR) {
      yield chunk.subarray(start, i);
      yield CR;
      start = i;
    }
    state.atLineStart = c === 0x0a;
    state.lastCR = c === 0x0d;
  }
  if (start < chunk.length) yield chunk.subarray(start);
}
