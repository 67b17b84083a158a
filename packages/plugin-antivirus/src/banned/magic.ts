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

/** True when the bytes start a zip archive (local header, or the end record of an empty zip). */
export function isZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 0x03 && head[3] === 0x04) ||
      (head[2] === 0x05 && head[3] === 0x06) ||
      (head[2] === 0x07 && head[3] === 0x08))
  );
}
