/**
 * The `eval:` functions of SpamAssassin's HTMLEval and MIMEEval plugins that read the HTML
 * figures (`HtmlStats`) and the MIME structure: `html_range`, `html_eval`,
 * `html_tag_balance`, `html_text_match`, `html_image_ratio`, `check_for_mime`,
 * `check_base64_length`. Picked by how often spamd hits their rules on the 2002 corpus sets.
 */
import type { EvalFn, SaEvalContext } from './eval-types.js';
import { HtmlStatsBuilder } from './html-stats.js';
import { alternativeGroups, headerValue } from './mime.js';
import { translatePerlRegex } from './perl-regex.js';

/** `html_eval` / `html_tag_balance` expressions: a comparison with a number (`< 512`, `!= 0`). */
export function compareExpr(value: number, expr: string | undefined): boolean {
  const m = /^\s*(<=|>=|==|!=|<|>)\s*([-+]?\d+)\s*$/.exec(expr ?? '');
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<':
      return value < n;
    case '<=':
      return value <= n;
    case '>':
      return value > n;
    case '>=':
      return value >= n;
    case '==':
      return value === n;
    default:
      return value !== n;
  }
}

const textPatterns = new Map<string, RegExp | null>();

function textPattern(source: string): RegExp | null {
  let re = textPatterns.get(source);
  if (re === undefined) {
    try {
      const t = translatePerlRegex(source);
      re = new RegExp(t.source, t.flags.replace(/[gy]/g, ''));
    } catch {
      re = null;
    }
    if (textPatterns.size < 1000) textPatterns.set(source, re);
  }
  return re;
}

/** MIMEEval's `_check_attachments` flags, once per message. */
interface MimeFlags {
  readonly mime_base64_count: number;
  readonly mime_qp_count: number;
  readonly mime_attachment: number;
  readonly mime_base64_encoded_text: number;
  readonly mime_bad_iso_charset: number;
  readonly mime_qp_long_line: number;
}

const ASCII_CHARSET =
  /(?:us-ascii|ansi_x3\.4-1968|iso-ir-6|ansi_x3\.4-1986|iso_646\.irv:1991|ascii|iso646-us|us|ibm367|cp367|csascii)/;

const mimeCache = new WeakMap<object, MimeFlags>();

function lineLengths(body: string): number[] {
  // Perl's raw lines keep their newline: a line's length counts it.
  const lines = body.split('\n');
  return lines.map((l, i) => l.length + (i < lines.length - 1 ? 1 : 0));
}

function mimeFlags(ctx: SaEvalContext): MimeFlags {
  const cached = mimeCache.get(ctx.message);
  if (cached) return cached;
  const f = {
    mime_base64_count: 0,
    mime_qp_count: 0,
    mime_attachment: 0,
    mime_base64_encoded_text: 0,
    mime_bad_iso_charset: 0,
    mime_qp_long_line: 0,
  };
  for (const p of ctx.message.mime.parts) {
    const cte = (headerValue(p.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
    const cd = (headerValue(p.headers, 'content-disposition') ?? '').trim().toLowerCase();
    const charset = p.charset ?? '';
    if (cte.includes('base64')) f.mime_base64_count++;
    else if (cte.includes('quoted-printable')) f.mime_qp_count++;
    if (cd.includes('attachment')) f.mime_attachment++;
    if (
      p.type.startsWith('text') &&
      cte.includes('base64') &&
      (!charset || ASCII_CHARSET.test(charset)) &&
      !/^(?:attachment|inline)/.test(cd)
    )
      f.mime_base64_encoded_text = 1;
    if (/iso-\S+-\S+\b/i.test(charset) && !/iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b/.test(charset))
      f.mime_bad_iso_charset = 1;
    if (cte === 'quoted-printable' && !f.mime_qp_long_line) {
      const lines = p.rawBody.split('\n');
      if (lineLengths(p.rawBody).some((n, i) => n > 79 && !(lines[i] as string).startsWith('SPAM: ')))
        f.mime_qp_long_line = 1;
    }
  }
  mimeCache.set(ctx.message, f);
  return f;
}

/** The tests `check_for_mime` answers. */
export const MIME_TESTS: ReadonlySet<string> = new Set([
  'mime_base64_count',
  'mime_qp_count',
  'mime_attachment',
  'mime_base64_encoded_text',
  'mime_bad_iso_charset',
  'mime_qp_long_line',
]);

/** The figures `html_range` and `html_eval` read. */
export const HTML_FIGURES: ReadonlySet<string> = new Set([
  'length',
  'max_size',
  'image_area',
  'closed_extra_ratio',
  'bad_tag_ratio',
  'non_element_ratio',
  'obfuscation_ratio',
]);

/** The lists `html_text_match` reads. */
export const HTML_TEXTS: ReadonlySet<string> = new Set(['comment', 'anchor', 'title']);

/** BodyEval's `madiff`: the largest share (%) of HTML words missing from the text, over the multipart/alternative parts. */
const madiffCache = new WeakMap<object, number>();

function multipartAlternativeDifference(ctx: SaEvalContext): number {
  const cached = madiffCache.get(ctx.message);
  if (cached !== undefined) return cached;
  let madiff = 0;
  const mime = ctx.message.mime;
  const groups = alternativeGroups(mime);
  // Exchange meeting requests (multipart/alternative of text/html and text/calendar) are let be.
  const calendar =
    mime.rootType === 'multipart/alternative' &&
    mime.parts.length === 2 &&
    mime.parts[0]?.type === 'text/html' &&
    mime.parts[1]?.type === 'text/calendar';
  for (const group of calendar ? [] : groups) {
    const html = new Map<string, number>();
    const text = new Map<string, number>();
    for (const part of group) {
      if (!part.type.startsWith('text')) continue;
      const isHtml = part.type === 'text/html';
      const rendered = isHtml ? ctx.message.rendered(part) : part.decoded;
      if (rendered === undefined) continue;
      const words = isHtml ? html : text;
      for (const w of rendered.split(/\s+/)) if (/\w/.test(w)) words.set(w, (words.get(w) ?? 0) + 1);
      if (
        isHtml &&
        html.size === 0 &&
        part.decoded !== '' &&
        ctx.message.htmlOf(part).stats.inside.has('img')
      )
        html.set('\n', 1);
    }
    const orig = html.size;
    if (orig === 0) continue;
    for (const [w, n] of text) if ((html.get(w) ?? Number.POSITIVE_INFINITY) - n < 1) html.delete(w);
    madiff = Math.max(madiff, (html.size / orig) * 100);
  }
  madiffCache.set(ctx.message, madiff);
  return madiff;
}

/** The functions, by name. */
export const HTML_MIME_EVALS: Readonly<Record<string, EvalFn>> = {
  html_range(ctx, [test, min, max]) {
    const lo = Number(min);
    for (const h of ctx.message.html()) {
      const v = HtmlStatsBuilder.figure(h.stats, test ?? '');
      if (v === undefined) continue;
      if (max === undefined || max === 'inf') {
        if (v > lo) return 1;
      } else if (v > lo && v <= Number(max)) return 1;
    }
    return 0;
  },
  html_eval(ctx, [test, expr]) {
    for (const h of ctx.message.html()) {
      const v = HtmlStatsBuilder.figure(h.stats, test ?? '');
      if (v !== undefined && compareExpr(v, expr)) return 1;
    }
    return 0;
  },
  html_tag_balance(ctx, [tag, expr]) {
    if (!tag || !/^[a-zA-Z0-9]+$/.test(tag)) return 0;
    for (const h of ctx.message.html()) {
      const v = h.stats.inside.get(tag);
      if (v !== undefined && compareExpr(v, expr)) return 1;
    }
    return 0;
  },
  html_text_match(ctx, [field, pattern]) {
    const re = textPattern(pattern ?? '');
    if (!re || !field || !HTML_TEXTS.has(field)) return 0;
    for (const h of ctx.message.html()) {
      const list = h.stats[field as 'comment' | 'anchor' | 'title'];
      if (list.some((s) => re.test(s))) return 1;
    }
    return 0;
  },
  html_image_ratio(ctx, [min, max]) {
    for (const h of ctx.message.html()) {
      if (h.stats.imageArea <= 0) continue;
      const nonSpace = h.text.length - (h.text.match(/[ \t\n\r\x0b]/g)?.length ?? 0);
      const ratio = nonSpace / h.stats.imageArea;
      if (ratio > Number(min) && ratio <= Number(max)) return 1;
    }
    return 0;
  },
  check_for_mime(ctx, [test]) {
    if (!test || !MIME_TESTS.has(test)) return 0;
    return mimeFlags(ctx)[test as keyof MimeFlags] ? 1 : 0;
  },
  multipart_alternative_difference(ctx, [min, max]) {
    const d = multipartAlternativeDifference(ctx);
    return (Number(min) === 0 || d > Number(min)) && (max === 'undef' || d <= Number(max)) ? 1 : 0;
  },
  check_base64_length(ctx, [min, max]) {
    let longest = 0;
    for (const p of ctx.message.mime.parts) {
      if (p.type === 'application/ics') continue;
      const cte = (headerValue(p.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
      if (cte !== 'base64') continue;
      for (const n of lineLengths(p.rawBody)) if (n > longest) longest = n;
    }
    if (max !== undefined && longest > Number(max)) return 0;
    return longest >= Number(min) ? 1 : 0;
  },
};
