/**
 * One message as SpamAssassin's rules see it: header values decoded the way its `get()`
 * returns them (with `:raw`, `:addr`, `:name`, `:first`, `:last`, and the pseudo-headers
 * `ALL`, `ToCc`, `MESSAGEID`, `EnvelopeFrom`), the rendered body split into lines of at
 * most 2,048 bytes (subject first), the decoded raw body in paragraphs, the full message, and
 * the URIs. All byte strings (latin1). Each view is built on first use and kept.
 */
import { type HtmlSummary, renderHtml } from './html.js';
import {
  decodeBase64,
  decodeQuotedPrintable,
  parseMime,
  type SaHeader,
  type SaMime,
  type SaPart,
} from './mime.js';
import { readRelays, relayString, type SaRelays } from './received.js';
import { extractUris } from './uris.js';

/** SpamAssassin's MAX_BODY_LINE_LENGTH: body rules never see a longer line. */
export const MAX_BODY_LINE = 2048;

/** Header names whose values SpamAssassin never decodes from RFC 2047. */
const NO_DECODE =
  /^(?:Received|(?:Resent-)?(?:Message-ID|Date)|MIME-Version|References|In-Reply-To|List-.*)$/i;

function decodeWordCharset(bytes: string, charset: string): string {
  const cs = charset.replace(/\*.*$/, '').toLowerCase();
  if (cs === 'us-ascii' || cs === 'utf-8' || cs === 'utf8') return bytes;
  try {
    const text = new TextDecoder(cs).decode(Buffer.from(bytes, 'latin1'));
    return Buffer.from(text, 'utf8').toString('latin1');
  } catch {
    return bytes;
  }
}

/** RFC 2047 decoding to UTF-8 bytes, as SpamAssassin's `_decode_header`. */
export function decodeHeader(raw: string, name: string): string {
  let v = raw.replace(/\n[ \t]/g, '\n ').replace(/\r?\n/g, '');
  if (NO_DECODE.test(name) || !v.includes('=?')) return v;
  const word = /=\?([A-Za-z0-9*_-]+)\?([bqBQ])\?([^?]*)\?=/g;
  v = v.replace(/(=\?[A-Za-z0-9*_-]+\?[bqBQ]\?[^?]*\?=)\s+(?==\?[A-Za-z0-9*_-]+\?[bqBQ]\?[^?]*\?=)/g, '$1');
  return v.replace(word, (_, charset: string, cte: string, data: string) => {
    const bytes =
      cte.toUpperCase() === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data.replace(/_/g, '=20'));
    return decodeWordCharset(bytes, charset);
  });
}

/** An address of a header line, as SpamAssassin's `parse_header_addresses` gives it. */
interface ParsedAddress {
  readonly address: string | undefined;
  readonly phrase: string | undefined;
}

/** A forgiving address-list parser: `"Name" <a@b>`, `a@b (Name)`, groups, bare addresses. */
export function parseAddresses(line: string): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  const text = line.replace(/\r?\n/g, ' ');
  for (const piece of text.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const p = piece
      .replace(/^[^:<"]*:(?=.*@)/, '')
      .replace(/;\s*$/, '')
      .trim();
    if (!p) continue;
    const angle = /^(.*?)<([^>]*)>/.exec(p);
    if (angle) {
      const phrase = (angle[1] as string).trim().replace(/^"(.*)"$/, '$1');
      out.push({ address: (angle[2] as string).trim() || undefined, phrase: phrase || undefined });
      continue;
    }
    const comment = /^(\S+)\s*\((.*)\)\s*$/.exec(p);
    if (comment) {
      out.push({ address: comment[1], phrase: comment[2] || undefined });
      continue;
    }
    out.push({ address: /^\S+$/.test(p) ? p : undefined, phrase: /^\S+$/.test(p) ? undefined : p });
  }
  return out;
}

/** One message's views for the SpamAssassin rules. */
export class SaMessage {
  readonly mime: SaMime;
  readonly pristine: string;
  private readonly cache = new Map<string, string[]>();
  private readonly strings = new Map<string, string | undefined>();
  private bodyCache: string[] | undefined;
  private rawbodyCache: string[] | undefined;
  private urisCache: string[] | undefined;
  private htmlCache: HtmlSummary[] | undefined;
  private renderedCache: Map<SaPart, string | undefined> | undefined;
  private relaysCache: SaRelays | undefined;

  constructor(raw: Buffer | string, maxPartBytes = 50_000) {
    this.pristine = typeof raw === 'string' ? raw : raw.toString('latin1');
    this.mime = parseMime(this.pristine, maxPartBytes);
  }

  get headers(): readonly SaHeader[] {
    return this.mime.headers;
  }

  private rawValues(name: string, parts: readonly SaHeader[] = this.mime.headers): string[] {
    const lower = name.toLowerCase();
    return parts.filter((h) => h.name.toLowerCase() === lower).map((h) => `${h.raw}\n`);
  }

  private values(name: string, raw: boolean, headers?: readonly SaHeader[]): string[] {
    const vals = this.rawValues(name, headers);
    if (raw) return vals.map((v) => v.replace(/\r?\n\s+/g, ' '));
    return vals.map((v) => `${decodeHeader(v.slice(0, -1), name)}\n`);
  }

  /** The values `get(request)` returns in list context (modifiers after `:`). */
  get(request: string, headers?: readonly SaHeader[]): string[] {
    const key = headers ? undefined : request;
    if (key !== undefined) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const mods = request.split(':');
    const name = mods.shift() as string;
    const raw = mods.includes('raw');
    const addr = mods.includes('addr');
    const nameMod = mods.includes('name');
    let results: string[];
    if (name === 'ALL') {
      results = this.mime.headers.map(
        (h) => `${h.name}: ${raw ? `${h.raw}\n` : `${decodeHeader(h.raw, h.name)}\n`}`,
      );
    } else if (/^X-Spam-Relays-(?:Trusted|Untrusted|Internal|External)$/i.test(name)) {
      const r = this.relays();
      const trusted = /trusted$|internal$/i.test(name) && !/untrusted$/i.test(name);
      results = [(trusted ? r.trusted : r.untrusted).map((x) => relayString(x, trusted)).join(' ')];
    } else if (name.toLowerCase() === 'envelopefrom') {
      results = this.envelopeFrom();
    } else if (name.toLowerCase() === 'tocc') {
      results = [...this.values('To', raw || addr || nameMod), ...this.values('Cc', raw || addr || nameMod)];
    } else if (name === 'MESSAGEID') {
      results = ['X-Message-Id', 'Resent-Message-Id', 'X-Original-Message-ID', 'Message-Id']
        .flatMap((h) => this.values(h, raw))
        .filter((v) => v !== '' && v !== '\n');
    } else {
      results = this.values(name, raw || addr || nameMod, headers);
    }
    if (results.length && mods.includes('first')) results = [results[0] as string];
    else if (results.length && mods.includes('last')) results = [results[results.length - 1] as string];
    if (addr || nameMod) {
      const res: string[] = [];
      for (const line of results) {
        for (const a of parseAddresses(line)) {
          if (addr && a.address !== undefined) res.push(a.address);
          else if (nameMod && a.phrase !== undefined) {
            if (raw) res.push(a.phrase);
            else {
              let d = decodeHeader(a.phrase, 'PMS:get');
              if (/\S/.test(d))
                d = d
                  .replace(/\s+/g, ' ')
                  .trim()
                  .replace(/^'(.*?)'$/, '$1');
              res.push(d);
            }
          }
        }
      }
      results = res;
    }
    if (key !== undefined) this.cache.set(key, results);
    return results;
  }

  /** The string a header rule matches, or undefined when the header is absent. */
  headerString(request: string, headers?: readonly SaHeader[]): string | undefined {
    if (!headers && this.strings.has(request)) return this.strings.get(request);
    const vals = this.get(request, headers);
    const out = vals.length === 0 ? undefined : vals.join((vals[0] as string).endsWith('\n') ? '' : '\n');
    if (!headers) this.strings.set(request, out);
    return out;
  }

  /** The relays of the Received headers, with inferred trust. */
  relays(): SaRelays {
    this.relaysCache ??= readRelays(
      this.rawValues('Received').map((v) => v.replace(/\r?\n\s+/g, ' ').trim()),
    );
    return this.relaysCache;
  }

  /** SpamAssassin's `get_envelope_from`: the last untrusted relay's, else trusted headers. */
  private envelopeFrom(): string[] {
    const relays = this.relays();
    const last = relays.untrusted[0] ?? relays.trusted[relays.trusted.length - 1];
    if (last?.envfrom !== undefined && (last.envfrom.indexOf('@') > 0 || last.envfrom === ''))
      return [last.envfrom];
    const all = this.get('ALL').join('');
    for (const h of ['X-Envelope-From', 'Envelope-Sender', 'Return-Path']) {
      const v = this.get(`${h}:first:addr`)[0];
      if (v === undefined) continue;
      if (new RegExp(`^Received:[\\s\\S]*?^${h}:`, 'mi').test(all)) {
        if (h === 'X-Envelope-From') return [];
        continue;
      }
      return [v];
    }
    return [];
  }

  /** Text of a leaf part as `rendered()` gives it, undefined for non-text parts. */
  rendered(part: SaPart): string | undefined {
    this.renderedCache ??= new Map();
    if (this.renderedCache.has(part)) return this.renderedCache.get(part);
    let out: string | undefined;
    if (part.type === 'text/html') out = part.decoded === '' ? '' : this.htmlOf(part).text;
    else if (part.type === 'text/plain') out = part.decoded;
    this.renderedCache.set(part, out);
    return out;
  }

  private readonly htmlByPart = new Map<SaPart, HtmlSummary>();

  htmlOf(part: SaPart): HtmlSummary {
    let h = this.htmlByPart.get(part);
    if (!h) {
      h = renderHtml(part.decoded);
      this.htmlByPart.set(part, h);
    }
    return h;
  }

  /** Summaries of the text/html parts, in order. */
  html(): HtmlSummary[] {
    this.htmlCache ??= this.mime.parts.filter((p) => p.type === 'text/html').map((p) => this.htmlOf(p));
    return this.htmlCache;
  }

  /** Lines body rules run on: subject, then rendered text, whitespace folded, ≤ 2,048 bytes. */
  bodyLines(): string[] {
    if (this.bodyCache) return this.bodyCache;
    let text = '';
    for (const p of this.mime.parts) {
      if (text !== '') text += '\n';
      const r = this.rendered(p);
      if (r !== undefined) text += r;
    }
    text = text
      .replace(/\n+[\t-\r ]*\n+/g, '\x00')
      .replace(/[\t-\r ]+/g, ' ')
      .replace(/\x00/g, '\n');
    const subject = this.headerString('Subject') || '\n';
    this.bodyCache = splitShortLines(subject + text);
    return this.bodyCache;
  }

  /** Paragraphs rawbody rules run on: decoded text and message parts, not rendered. */
  rawbodyLines(): string[] {
    if (this.rawbodyCache) return this.rawbodyCache;
    const out: string[] = [];
    for (const p of this.mime.parts) {
      if (!/^(?:text|message)\b/.test(p.type) || p.type === 'text/calendar') continue;
      out.push(...splitShortParagraphs(p.decoded));
    }
    this.rawbodyCache = out;
    return out;
  }

  /** URIs from the HTML parts' links and the text, with SpamAssassin-like variants. */
  uris(): string[] {
    if (this.urisCache) return this.urisCache;
    const html = this.html().flatMap((h) => h.uris);
    const texts = this.mime.parts.map((p) => this.rendered(p)).filter((t): t is string => t !== undefined);
    this.urisCache = extractUris(html, texts);
    return this.urisCache;
  }
}

/** `split_into_array_of_short_lines`: lines, each cut at a space before 2,048 bytes. */
export function splitShortLines(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split(/(?<=\n)/)) {
    let line = l;
    while (line.length > MAX_BODY_LINE) {
      let len = line.lastIndexOf(' ', MAX_BODY_LINE) + 1;
      if (len === 0) len = MAX_BODY_LINE;
      out.push(line.slice(0, len));
      line = line.slice(len);
    }
    out.push(line);
  }
  return out;
}

/** `split_into_array_of_short_paragraphs`: chunks of 2 to 4 KB cut at a newline, `>` or space. */
export function splitShortParagraphs(text: string): string[] {
  const max = MAX_BODY_LINE;
  if (text.length <= max) return [text];
  const out: string[] = [];
  let ofs = 0;
  for (; text.length - ofs > 2 * max; ) {
    let j = text.indexOf('\n', ofs + max);
    if (j < 0 || j - ofs + 1 > 2 * max) {
      j = text.indexOf('>', ofs + max);
      if (j < 0 || j - ofs + 1 > 2 * max) {
        j = text.indexOf(' ', ofs + max);
        if (j < 0 || j - ofs + 1 > 2 * max) j = ofs + max;
      }
    }
    out.push(text.slice(ofs, j + 1));
    ofs = j + 1;
  }
  if (ofs < text.length) out.push(text.slice(ofs));
  return out;
}
