import { AntivirusError } from '../errors.js';

/** What clamd said about one stream. */
export type ClamdReply =
  | { readonly kind: 'clean'; readonly raw: string }
  | {
      readonly kind: 'found';
      /** The name as clamd sent it, less a `(hash:size)` suffix. */
      readonly name: string;
      /** True for `Heuristics.*` detections (encrypted archives, macros, limits exceeded...). */
      readonly heuristic: boolean;
      readonly raw: string;
    }
  | { readonly kind: 'error'; readonly message: string; readonly raw: string };

const HASH_SUFFIX = /\([0-9a-fA-F]{32,64}:\d+\)$/;

/** True for the heuristic detections that get their own symbol and policy. */
export function isHeuristic(name: string): boolean {
  return /^(Heuristics|PUA\.Heuristics)\./i.test(name);
}

/**
 * Parses the answer to `zINSTREAM` (without its NUL). Accepts an `IDSESSION` id prefix
 * (`1: stream: OK`). Anything else is a protocol error.
 */
export function parseScanReply(input: string): ClamdReply {
  const raw = input.replace(/\0+$/, '').trim();
  let text = raw.replace(/^\d+: /, '');
  if (text === 'COMMAND READ TIMED OUT') return { kind: 'error', message: text, raw };
  if (/ ERROR$/.test(text)) return { kind: 'error', message: text.replace(/ ERROR$/, ''), raw };
  if (!text.startsWith('stream: ')) {
    throw new AntivirusError(
      'MEF_AV_CLAMD_PROTOCOL',
      `Unexpected clamd reply: ${JSON.stringify(raw.slice(0, 200))}`,
      { kind: 'protocol' },
    );
  }
  text = text.slice('stream: '.length);
  if (text === 'OK') return { kind: 'clean', raw };
  const found = /^(.+) FOUND$/.exec(text);
  if (found?.[1]) {
    const name = found[1].replace(HASH_SUFFIX, '').trim();
    if (name && !/[\0\r\n]/.test(name)) return { kind: 'found', name, heuristic: isHeuristic(name), raw };
  }
  throw new AntivirusError(
    'MEF_AV_CLAMD_PROTOCOL',
    `Unexpected clamd reply: ${JSON.stringify(raw.slice(0, 200))}`,
    { kind: 'protocol' },
  );
}
