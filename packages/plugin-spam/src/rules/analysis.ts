import type { MessageFeatures } from '../features.js';

/** A link found in the HTML: where it points and what it shows. */
export interface HtmlLink {
  readonly href: string;
  /** Link text with tags removed and entities of spaces collapsed. */
  readonly text: string;
}

/**
 * What several rules need, worked out once per message from the bounded views: the links,
 * the URL hosts, image and tag counts. Computed lazily so a rule set that needs none of it
 * pays nothing.
 */
export class Analysis {
  readonly msg: MessageFeatures;
  private linksCache: HtmlLink[] | undefined;
  private hostsCache: string[] | undefined;

  constructor(msg: MessageFeatures) {
    this.msg = msg;
  }

  /** `<a href>` links of the HTML, at most 500. */
  get links(): readonly HtmlLink[] {
    if (!this.linksCache) {
      const out: HtmlLink[] = [];
      // Bounded and kept inside one tag ([^<>]): hostile markup cannot make it backtrack.
      const re =
        /<a\b[^<>]{0,400}?\bhref\s*=\s*(?:"([^"<>]{0,2000})"|'([^'<>]{0,2000})'|([^\s<>]{1,2000}))[^<>]{0,400}>([\s\S]{0,500}?)<\/a\s*>/gi;
      for (let m = re.exec(this.msg.html); m && out.length < 500; m = re.exec(this.msg.html)) {
        const href = (m[1] ?? m[2] ?? m[3] ?? '').trim();
        const text = (m[4] ?? '')
          .replace(/<[^>]*>/g, '')
          .replace(/&nbsp;|&#160;/gi, ' ')
          .replace(/\s+/g, ' ')
          .trim();
        out.push({ href, text });
      }
      this.linksCache = out;
    }
    return this.linksCache;
  }

  /** Hosts of every http(s) URL in the text, the HTML links and image sources, lower-case, at most 1,000. */
  get urlHosts(): readonly string[] {
    if (!this.hostsCache) {
      const out: string[] = [];
      const re = /\bhttps?:\/\/(?:[^\s/?#@"'<>]{0,64}@)?([^\s/?#:"'<>)\]]{1,255})/gi;
      for (const source of [this.msg.text, this.msg.html]) {
        re.lastIndex = 0;
        for (let m = re.exec(source); m && out.length < 1000; m = re.exec(source)) {
          out.push((m[1] ?? '').toLowerCase().replace(/\.$/, ''));
        }
      }
      this.hostsCache = out;
    }
    return this.hostsCache;
  }
}

/** Host of a URL, lower-case, or undefined when it is not an absolute http(s) URL. */
export function urlHost(url: string): string | undefined {
  const m = /^\s*https?:\/\/(?:[^\s/?#@]{0,64}@)?([^\s/?#:]{1,255})/i.exec(url);
  return m?.[1]?.toLowerCase().replace(/\.$/, '');
}

const SECOND_LEVEL = /^(?:co|com|net|org|gov|edu|ac|or|ne|go|ltd|plc)$/;

/**
 * The registrable part of a host name, approximately (last two labels, three under a
 * country code with a generic second level such as `co.uk`). No public suffix list: it only
 * has to tell two unrelated sites apart.
 */
export function baseDomain(host: string): string {
  const labels = host.toLowerCase().split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const tld = labels[labels.length - 1] ?? '';
  const sld = labels[labels.length - 2] ?? '';
  if (tld.length === 2 && SECOND_LEVEL.test(sld)) return labels.slice(-3).join('.');
  return labels.slice(-2).join('.');
}

/** True for a dotted IPv4 address or a bracketed IPv6 literal. */
export function isIpHost(host: string): boolean {
  return (
    /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) ||
    host.startsWith('[') ||
    /^\d{8,10}$/.test(host) ||
    /^0x[0-9a-f]{8}$/i.test(host)
  );
}
