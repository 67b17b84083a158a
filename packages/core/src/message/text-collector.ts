import type { ExtractedText } from '../plugin.js';
import type { OnLimit } from './limits.js';
import { decodeText, htmlToText } from './text.js';

/** The text of one part being gathered. */
export interface PartText {
  readonly chunks: Buffer[];
  readonly html: boolean;
  readonly charset: string | undefined;
}

/**
 * Gathers the text view: the decoded bytes of the text/plain and text/html parts that are
 * not attachments, bounded by `maxTextBytes` (hitting it is the `text` limit).
 */
export class TextCollector {
  /** True once a stage asked for the text view. */
  wanted = false;
  private bytes = 0;
  private limited = false;
  private readonly texts: string[] = [];
  private readonly htmls: string[] = [];

  constructor(
    private readonly maxTextBytes: number,
    private readonly onLimit: OnLimit,
  ) {}

  /** A part to gather, or undefined when this part's text is not wanted. */
  partText(type: string, disposition: string | false, charset: string | false): PartText | undefined {
    if (!this.wanted || this.limited) return undefined;
    if ((type !== 'text/plain' && type !== 'text/html') || disposition === 'attachment') return undefined;
    return { chunks: [], html: type === 'text/html', charset: charset || undefined };
  }

  /** Takes decoded bytes of a part, up to the limit. */
  collect(t: PartText, data: Buffer): void {
    const room = this.maxTextBytes - this.bytes;
    if (room <= 0) {
      this.limit();
      return;
    }
    const piece = data.length > room ? data.subarray(0, room) : data;
    t.chunks.push(piece);
    this.bytes += piece.length;
    if (data.length > room) this.limit();
  }

  /** The part ended: its bytes are decoded to text by its charset. */
  partEnd(t: PartText): void {
    if (!t.chunks.length) return;
    const s = decodeText(Buffer.concat(t.chunks), t.charset);
    (t.html ? this.htmls : this.texts).push(s);
  }

  /** The text view, with HTML rendered to text; empty when no stage asked for it. */
  result(subject: () => string): ExtractedText {
    if (!this.wanted) return { text: '', html: '', subject: '', truncated: false };
    const html = this.htmls.join('\n');
    const fromHtml = this.htmls.map((h) => htmlToText(h)).join('\n');
    const text = [this.texts.join('\n'), fromHtml].filter(Boolean).join('\n');
    return { text, html, subject: subject(), truncated: this.limited };
  }

  private limit(): void {
    if (this.limited) return;
    this.limited = true;
    this.onLimit('text', `more than ${this.maxTextBytes} bytes of text`);
  }
}
