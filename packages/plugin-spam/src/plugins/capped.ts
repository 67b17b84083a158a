import type { Readable } from 'node:stream';
import { type CappedSource, capSource } from '@mef/core';
import { SpamError } from '../errors.js';

/**
 * Size caps for the stages that hand the raw message to another program: a buffer of at most
 * `max` bytes (spamd and the native rules want the whole message), or a stream that stops past
 * `max` (rspamd reads it as it comes). Either way the engine's one pass is read to its end.
 */

/** The message held in memory, or only its size when it went over `max`. */
export interface CappedMessage {
  /** The bytes, when the message was at most `max` bytes long. */
  readonly bytes: Buffer | undefined;
  /** Bytes read in all. */
  readonly size: number;
}

/** Reads `raw` to its end, holding at most `max` bytes; past the cap it drops what it held. */
export async function readCapped(raw: Readable, max: number): Promise<CappedMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (over) continue;
    if (size > max) {
      over = true;
      chunks.length = 0;
    } else chunks.push(chunk);
  }
  return { bytes: over ? undefined : Buffer.concat(chunks, size), size };
}

/**
 * Pipes `raw` through core's capped stream of `max` bytes, failing with
 * `MEF_SPAM_RSPAMD_TOO_LARGE` past the cap (rspamd reads the upload as it comes).
 */
export function capUpload(raw: Readable, max: number): CappedSource {
  return capSource(
    raw,
    max,
    (m) => new SpamError('MEF_SPAM_RSPAMD_TOO_LARGE', `message exceeds maxSize ${m}`),
  );
}
