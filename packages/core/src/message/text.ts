import { compile } from 'html-to-text';
import iconv from 'iconv-lite';

/** Decodes text bytes in the declared charset; unknown charsets fall back to UTF-8. */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'utf-8').trim().toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'ascii') return bytes.toString('utf8');
  try {
    if (iconv.encodingExists(cs)) return iconv.decode(bytes, cs);
  } catch {
    // fall through
  }
  return bytes.toString('utf8');
}

/**
 * Renders HTML to plain text with html-to-text (what mailparser uses), bounded in depth and
 * children so hostile markup cannot blow the stack; on failure, tags are stripped instead.
 */
// Compiled once: compiling the selectors is most of the cost of a small HTML part.
let compiled: ((html: string) => string) | undefined;

export function htmlToText(html: string): string {
  try {
    compiled ??= compile({
      wordwrap: false,
      limits: { maxDepth: 64, maxChildNodes: 20_000, ellipsis: ' ...' },
      selectors: [
        { selector: 'a', options: { ignoreHref: false, hideLinkHrefIfSameAsText: true } },
        { selector: 'img', format: 'skip' },
      ],
    });
    return compiled(html);
  } catch {
    return html
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  }
}
