/** Real type detection from magic bytes, with file-type (loaded once, on first use: it is ESM only). */

/** How many leading bytes the detector needs. */
export const MAGIC_BYTES = 4100;

type Detect = (input: Uint8Array) => Promise<{ ext: string; mime: string } | undefined>;
let detector: Promise<Detect> | undefined;

function load(): Promise<Detect> {
  detector ??= import('file-type').then((m) => m.fileTypeFromBuffer as Detect);
  return detector;
}

/** The real type of content from its first bytes, such as `{ ext: 'exe', mime: 'application/x-msdownload' }`. */
export async function detectType(head: Uint8Array): Promise<{ ext: string; mime: string } | undefined> {
  if (head.length === 0) return undefined;
  const detect = await load();
  try {
    return await detect(head);
  } catch {
    // A truncated head can trip a detector that expects more bytes: no type, not an error.
    return undefined;
  }
}
