/**
 * HTML rendered to text the way SpamAssassin's HTML.pm does it for body rules: script and
 * style dropped, `br`/`div` a newline, `p`/`hr`/`blockquote`/`pre`/`title` a blank line,
 * `li`/`td`/`th`/`h1-6` a space, entities decoded, runs of whitespace one space. Also
 * collects what the eval functions read: link targets, tag names, image and text counts.
 * One linear scan over the input; no backtracking-prone patterns.
 */

import { type HtmlStats, HtmlStatsBuilder } from './html-stats.js';

/** What one HTML part tells the rules. */
export interface HtmlSummary {
  readonly text: string;
  readonly uris: readonly string[];
  readonly tags: ReadonlySet<string>;
  readonly images: number;
  readonly imageArea: number;
  readonly title: string;
  /** Visible non-space characters. */
  readonly textChars: number;
  /** Bytes of text between tags (script and style left out). */
  readonly length: number;
  /** HTML.pm's figures for the `HTMLEval` functions. */
  readonly stats: HtmlStats;
}

const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\xa0',
  copy: '\xa9',
  reg: '\xae',
  euro: '\x80',
};

/** Decodes character references; code points above 0xff become UTF-8 bytes. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9A-Fa-f]{1,6}|#\d{1,7}|[A-Za-z]{2,8});?/g, (all, ref: string) => {
    let code: number;
    if (ref[0] === '#')
      code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    else {
      const named = NAMED[ref.toLowerCase()];
      return named ?? all;
    }
    if (!Number.isFinite(code) || code > 0x10ffff) return all;
    if (code <= 0xff) return String.fromCharCode(code);
    return Buffer.from(String.fromCodePoint(code), 'utf8').toString('latin1');
  });
}

const URI_ATTRS: Readonly<Record<string, readonly string[]>> = {
  a: ['href'],
  area: ['href'],
  link: ['href'],
  base: ['href'],
  img: ['src'],
  frame: ['src'],
  iframe: ['src'],
  embed: ['src'],
  script: ['src'],
  form: ['action'],
  input: ['src'],
  body: ['background'],
  table: ['background'],
  td: ['background'],
};

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?/g;
  for (let guard = 0; guard < 200; guard++) {
    const m = re.exec(text);
    if (!m) break;
    const name = (m[1] as string).toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** Renders an HTML part (a byte string) and summarises it. */
export function renderHtml(html: string): HtmlSummary {
  const chunks: string[] = [];
  const uris: string[] = [];
  const tags = new Set<string>();
  let images = 0;
  let imageArea = 0;
  let title = '';
  let inTitle = false;
  let length = 0;
  let pos = 0;
  const n = html.length;
  const lower = html.toLowerCase();
  const stats = new HtmlStatsBuilder(html.length);
  const push = (s: string, ws: boolean) => {
    if (ws) {
      const last = chunks.length - 1;
      if (last >= 0) chunks[last] = (chunks[last] as string).replace(/ $/, '');
      chunks.push(s);
      return;
    }
    chunks.push(s.replace(/[ \t\n\r\f\x0b]+|\xc2\xa0/g, ' '));
  };
  while (pos < n) {
    const lt = html.indexOf('<', pos);
    const end = lt === -1 ? n : lt;
    if (end > pos) {
      const text = decodeEntities(html.slice(pos, end));
      length += text.length;
      stats.text(text, chunks[chunks.length - 1]);
      push(text, false);
      if (inTitle) title += text;
    }
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      pos = close === -1 ? n : close + 3;
      stats.addComment(html.slice(lt, pos));
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt === -1) {
      push(html.slice(lt), false);
      break;
    }
    const inner = html.slice(lt + 1, gt);
    pos = gt + 1;
    const m = /^(\/?)([A-Za-z][A-Za-z0-9:-]*)/.exec(inner);
    if (!m) {
      if (/^!doctype/i.test(inner)) stats.doctype();
      if (!/^[!?]/.test(inner)) push(`<${inner}>`, false);
      continue;
    }
    const closing = m[1] === '/';
    const tag = (m[2] as string).toLowerCase();
    tags.add(tag);
    stats.tag(tag, closing, () => attributes(inner.slice(m[0].length)));
    if (!closing && (tag === 'script' || tag === 'style')) {
      const close = lower.indexOf(`</${tag}`, pos);
      pos = close === -1 ? n : close;
      continue;
    }
    if (tag === 'title') inTitle = !closing;
    if (!closing) {
      const attrs = URI_ATTRS[tag];
      if (attrs || tag === 'img') {
        const a = attributes(inner.slice(m[0].length));
        for (const name of attrs ?? []) {
          const v = a.get(name);
          if (v !== undefined) uris.push(v.trim());
        }
        if (tag === 'img') {
          images++;
          const w = Number(a.get('width'));
          const h = Number(a.get('height'));
          if (w > 0 && h > 0) imageArea += w * h;
        }
      }
    }
    if (tag === 'br' || tag === 'div') push('\n', true);
    else if (/^(?:li|t[hd]|d[td]|embed|h\d)$/.test(tag)) push(' ', true);
    else if (/^(?:p|hr|blockquote|pre|listing|plaintext|xmp|title)$/.test(tag)) push('\n\n', true);
  }
  const text = chunks.join('');
  return {
    text,
    uris,
    tags,
    images,
    imageArea,
    title,
    textChars: text.replace(/\s+/g, '').length,
    length,
    stats: stats.finish(),
  };
}
