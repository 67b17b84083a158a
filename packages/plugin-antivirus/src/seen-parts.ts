/**
 * Each part checked once. When a message is read again (an ambiguity, an attached message, a
 * uuencoded file: see `mimeReadings` in `@mef/core`), the other readings' parts come after the
 * splitter's, with part ids `<reading>:<path>`. Core leaves out a repeat of a part it
 * fingerprinted, but it only fingerprints from the first finding on, so the parts read before
 * that come again. This keeps a fingerprint of every part of the splitter's reading as a stage
 * reads it, and tells which parts of another reading repeat one.
 */
import { createHash } from 'node:crypto';

/** True for a part of another reading than the splitter's (`last:2`, `lenient:3.1`). */
export function isOtherReading(partId: string): boolean {
  return partId.includes(':');
}

export class SeenParts {
  private readonly digests = new Set<string>();
  /** The splitter's parts still being read: a repeat can only be told once they are done. */
  private readonly reading: Promise<void>[] = [];

  /**
   * A part of the splitter's reading: its content, fingerprinted under `key` (what else makes
   * two parts the same for the caller, such as the file name) as the caller reads it. Call it
   * only where the result is read at once: {@link unseen} waits for every tracked part.
   */
  track(content: AsyncIterable<Buffer>, key: string): AsyncIterable<Buffer> {
    const hash = createHash('sha1');
    let done!: () => void;
    this.reading.push(
      new Promise<void>((r) => {
        done = r;
      }),
    );
    const digests = this.digests;
    return (async function* () {
      try {
        for await (const chunk of content) {
          hash.update(chunk);
          yield chunk;
        }
        digests.add(`${key}\0${hash.digest('hex')}`);
      } finally {
        done();
      }
    })();
  }

  /**
   * A part of another reading (held whole by core already): its content when no part of the
   * splitter's reading had the same key and bytes, `undefined` for a repeat. Past `maxBytes`
   * the part is taken as new, and its first `maxBytes + 1` bytes are returned.
   */
  async unseen(content: AsyncIterable<Buffer>, key: string, maxBytes: number): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    let whole = true;
    for await (const chunk of content) {
      if (size > maxBytes) {
        whole = false;
        continue; // read to the end: the pass must not stall on us
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    const data = Buffer.concat(chunks);
    if (!whole) return data;
    await Promise.all(this.reading);
    const digest = `${key}\0${createHash('sha1').update(data).digest('hex')}`;
    if (this.digests.has(digest)) return undefined;
    this.digests.add(digest);
    return data;
  }
}
