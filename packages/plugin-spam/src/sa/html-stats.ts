/**
 * The figures SpamAssassin's HTML.pm keeps while it parses an HTML part, for the `HTMLEval`
 * functions (`html_range`, `html_eval`, `html_tag_balance`, `html_text_match`,
 * `html_image_ratio`, `html_test`): tag and element counts, open-tag balance, extra closing
 * tags, text runs glued across tags (obfuscation), the largest font size, comments, anchor
 * and title texts, image area. Fed by `renderHtml` as it scans; bounded by the part's size.
 */

/** What HTML.pm reports about one HTML part. */
export interface HtmlStats {
  /** Bytes of the part's HTML source (HTML.pm's `length`). */
  readonly sourceLength: number;
  /** Tags seen, start and end, `<!doctype>` included. */
  readonly tags: number;
  /** Of those, the HTML 4 / XHTML 1 elements. */
  readonly elements: number;
  /** Distinct tag names. */
  readonly tagsSeen: number;
  /** Distinct element names. */
  readonly elementsSeen: number;
  /** End tags with no open tag of that name. */
  readonly closedExtra: number;
  /** Text runs that continue a word the previous run ended (`te<b></b>xt`). */
  readonly obfuscation: number;
  /** Open minus closed, per tag name, never below 0. */
  readonly inside: ReadonlyMap<string, number>;
  /** The largest font size set (3 when none). */
  readonly maxSize: number;
  /** A `<font face>` that does not look like a list of font names. */
  readonly fontFaceBad: boolean;
  /** Comments, `<!--` and `-->` included. */
  readonly comment: readonly string[];
  /** Text of each link, `<img>\n` for an image in it. */
  readonly anchor: readonly string[];
  /** Text of each `<title>`. */
  readonly title: readonly string[];
  /** Area of the images with a width and a height (200 for a size that is not a number). */
  readonly imageArea: number;
}

const ELEMENTS: ReadonlySet<string> = new Set(
  (
    'a abbr acronym address area b base bdo big blockquote body br button caption cite code col colgroup dd ' +
    'del dfn div dl dt em fieldset form h1 h2 h3 h4 h5 h6 head hr html i img input ins kbd label legend li ' +
    'link map meta noscript object ol optgroup option p param pre q samp script select small span strong ' +
    'style sub sup table tbody td textarea tfoot th thead title tr tt ul var applet basefont center dir ' +
    'font frame frameset iframe isindex menu noframes s strike u nobr x-sigsep x-tab'
  ).split(' '),
);

// A word character for the obfuscation count: neither space nor ASCII punctuation.
const WORD_START = /^[^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/;
const WORD_END = /[^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/;
const FONT_FACE = /^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z -]*[a-z]\d?["']?)*;?$/i;

/** Collects `HtmlStats` while `renderHtml` scans a part. */
export class HtmlStatsBuilder {
  private tags = 0;
  private elements = 0;
  private tagsSeen = 0;
  private elementsSeen = 0;
  private closedExtra = 0;
  private obfuscation = 0;
  private readonly inside = new Map<string, number>();
  private maxSize = 3;
  private baseFont = 3;
  private fontFaceBad = false;
  private readonly comment: string[] = [];
  private readonly anchor: string[] = [];
  private readonly title: string[] = [];
  private imageArea = 0;

  constructor(private readonly sourceLength: number) {}

  /** A start (`closing` false) or end tag, with its attributes (start tags only). */
  tag(name: string, closing: boolean, attrs: () => ReadonlyMap<string, string>): void {
    const namespaced = /^(?:o|st\d):[\w-]+\/?$/.test(name);
    const known = this.inside.has(name);
    if (ELEMENTS.has(name) || namespaced) {
      this.elements++;
      if (!known) this.elementsSeen++;
    }
    this.tags++;
    if (!known) this.tagsSeen++;
    const open = (this.inside.get(name) ?? 0) + (closing ? -1 : 1);
    if (open < 0) this.closedExtra++;
    this.inside.set(name, Math.max(open, 0));
    if (closing || namespaced || !ELEMENTS.has(name)) return;
    if (name === 'font' || name === 'basefont' || name === 'img') this.startTag(name, attrs());
    if (name === 'a') this.anchor.push('');
    else if (name === 'title') this.title.push('');
  }

  private startTag(name: string, a: ReadonlyMap<string, string>): void {
    const size = a.get('size');
    if (name === 'basefont') {
      const m = size === undefined ? null : /^\s*(\d+)/.exec(size);
      if (m) this.baseFont = Number(m[1]);
      return;
    }
    if (name === 'font') {
      if (size !== undefined) {
        const rel = /^\s*([+-]\d+)/.exec(size);
        const abs = /^\s*(\d+)/.exec(size);
        const value = rel ? this.baseFont + Number(rel[1]) : abs ? Number(abs[1]) : undefined;
        if (value !== undefined && value > this.maxSize) this.maxSize = value;
      }
      const face = a.get('face');
      if (face !== undefined && !FONT_FACE.test(face)) this.fontFaceBad = true;
      return;
    }
    if ((this.inside.get('a') ?? 0) > 0 && this.anchor.length)
      this.anchor[this.anchor.length - 1] += '<img>\n';
    const w = a.get('width');
    const h = a.get('height');
    if (w === undefined || h === undefined) return;
    const dim = (v: string, scale: number) => {
      const m = /^(\d+)(%)?$/.exec(v);
      const n = m ? Number(m[1]) * (m[2] ? scale : 1) : 0;
      return n > 0 ? n : 200;
    };
    this.imageArea += dim(w, 8) * dim(h, 6);
  }

  /** A run of text between tags (script and style left out); `previous` is the last rendered run. */
  text(text: string, previous: string | undefined): void {
    if (previous !== undefined && WORD_START.test(text) && WORD_END.test(previous)) this.obfuscation++;
    if ((this.inside.get('a') ?? 0) > 0 && this.anchor.length) this.anchor[this.anchor.length - 1] += text;
    if ((this.inside.get('title') ?? 0) > 0 && this.title.length) this.title[this.title.length - 1] += text;
  }

  /** A comment, as written. */
  addComment(text: string): void {
    if (this.comment.length < 1000) this.comment.push(text);
  }

  /** `<!doctype ...>`: counted as an element. */
  doctype(): void {
    this.elements++;
    this.tags++;
    this.inside.set('!doctype', 0);
  }

  /** The figures, with an unclosed `<style>` or `<script>` closed as HTML.pm closes it. */
  finish(): HtmlStats {
    for (const t of ['style', 'script']) {
      for (let guard = 0; (this.inside.get(t) ?? 0) > 0 && guard < 1000; guard++)
        this.tag(t, true, () => new Map());
    }
    return {
      sourceLength: this.sourceLength,
      tags: this.tags,
      elements: this.elements,
      tagsSeen: this.tagsSeen,
      elementsSeen: this.elementsSeen,
      closedExtra: this.closedExtra,
      obfuscation: this.obfuscation,
      inside: this.inside,
      maxSize: this.maxSize,
      fontFaceBad: this.fontFaceBad,
      comment: this.comment,
      anchor: this.anchor,
      title: this.title,
      imageArea: this.imageArea,
    };
  }

  /** A numeric figure by HTML.pm's result name, undefined when HTML.pm would not set it. */
  static figure(s: HtmlStats, name: string): number | undefined {
    switch (name) {
      case 'length':
        return s.sourceLength;
      case 'max_size':
        return s.maxSize;
      case 'image_area':
        return s.imageArea;
      case 'closed_extra_ratio':
        return s.tags ? s.closedExtra / s.tags : undefined;
      case 'bad_tag_ratio':
        return s.tags ? (s.tags - s.elements) / s.tags : undefined;
      case 'non_element_ratio':
        return s.tagsSeen ? (s.tagsSeen - s.elementsSeen) / s.tagsSeen : undefined;
      case 'obfuscation_ratio':
        return s.tags ? s.obfuscation / s.tags : undefined;
      default:
        return undefined;
    }
  }
}
