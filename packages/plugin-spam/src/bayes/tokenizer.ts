import { parse as parseDomain } from 'tldts';
import type { MessageFeatures } from '../features.js';

/** Options of the tokenizer. */
export interface TokenizerOptions {
  /**
   * Width of the orthogonal sparse bigram window over body words: each word is paired with
   * the next `window - 1` words, the gap encoded in the token. 1 means words only.
   * Default 2 (words plus adjacent pairs), which generalised best on the evaluation split.
   */
  readonly window?: number;
  /** Longest word kept as itself; longer words become a length-class token. Default 24. */
  readonly maxWordLength?: number;
  /** At most this many body words are read (bounds CPU on huge text). Default 6,000. */
  readonly maxWords?: number;
  /**
   * Whether the headers a mailing list or a forwarder adds (List-*, X-BeenThere,
   * X-Mailman-Version, Sender, Errors-To, Precedence, Resent-*, ...) count as tokens. Default
   * false: they tell the path, not the sender, and a list that carries spam as well as ham
   * teaches either (SpamAssassin's Bayes leaves them out too). Chosen by nested
   * cross-validation on the 2002 training sets (`scripts/cv.ts`).
   */
  readonly listHeaders?: boolean;
}

/**
 * Headers the tokenizer does not read as words: dates and ids only teach the model when a
 * corpus was collected, and mail clients' or other filters' own marks would teach it someone
 * else's verdict. Received is read apart, for its relay hosts only.
 */
const SKIPPED_HEADERS = new Set([
  'received',
  'date',
  'message-id',
  'delivered-to',
  'delivery-date',
  'return-path',
  'x-keywords',
  'x-status',
  'status',
  'x-uid',
  'x-sieve',
  'x-original-date',
  'x-originalarrivaltime',
  'x-delivered-to',
  'x-mail-from',
  'x-authentication-warning',
  'content-length',
  'lines',
  'x-mailscanner',
  'x-mef-monitor',
  'references',
  'in-reply-to',
  'thread-index',
]);
const SKIPPED_PREFIXES = [
  'x-spam',
  'x-virus',
  'x-bogosity',
  'x-rspamd',
  'x-mef',
  'arc-',
  'authentication-results',
];

/**
 * Headers a mailing list or a forwarder adds: they tell the path, not the sender, and a list
 * that carries spam as well as ham would teach either (SpamAssassin's Bayes ignores them too).
 */
const LIST_HEADER_RE =
  /^(?:x-)?(?:list-|mailing-list|sender$|resent-|original-)|^(?:x-beenthere|x-mailman-version|x-loop|errors-to|precedence|mail-followup-to|x-unsub(?:scribe)?|x-egroups-|x-mdmailing-list|x-xemacs-list|x-sympa-to|x-list)/;

/** Headers whose values are split into words (other headers count only by name). */
const WORD_HEADERS = ['subject', 'from', 'reply-to', 'x-mailer', 'user-agent', 'organization', 'sender'];

const WORD_RE = /[\p{L}\p{N}$€£][\p{L}\p{N}'$€£%-]*/gu;
const URL_RE = /\b(?:https?|ftp):\/\/([^\s/?#"'<>)\]]{1,255})([^\s"'<>)\]]{0,2000})/gi;
// Local part bounded: a long run of word characters without an @ must not cost n^2.
const EMAIL_RE = /[\w.+-]{1,64}@([\w-]+(?:\.[\w-]+)+)/g;
const TAG_RE = /<([a-zA-Z][a-zA-Z0-9]{0,15})\b([^>]{0,400})>/g;
const ATTR_RE = /([a-zA-Z-]{1,20})\s*=/g;
const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const RCVD_HOST_RE = /\b(?:from|by)\s+([a-z0-9][a-z0-9.-]{0,200}[a-z0-9])/gi;
const RCVD_IP_RE = /\[(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\]/g;
const ALT_RE = /\b(alt|title)\s*=\s*(?:"([^"<>]{1,400})"|'([^'<>]{1,400})')/gi;
const IMG_RE = /<img\b/gi;

function addWords(out: string[], prefix: string, text: string, maxLen: number): void {
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m; m = WORD_RE.exec(text)) {
    const w = m[0].toLowerCase();
    if (w.length > maxLen) out.push(`${prefix}long:${w.slice(0, 4)}:${Math.min(w.length >> 3, 8)}`);
    else out.push(prefix + w);
  }
}

function hostTokens(out: string[], prefix: string, rawHost: string): void {
  const host = rawHost
    .toLowerCase()
    .replace(/^[^@]*@/, '')
    .replace(/:\d+$/, '')
    .replace(/\.$/, '');
  if (!host) return;
  if (IPV4_RE.test(host) || host.startsWith('[')) {
    out.push(`${prefix}ip`);
    return;
  }
  const labels = host.split('.');
  out.push(`${prefix}${host}`);
  // The registrable domain and the public suffix from the public suffix list (co.uk, not uk).
  const d = parseDomain(host, { allowPrivateDomains: false });
  if (d.domain && d.domain !== host) out.push(`${prefix}${d.domain}`);
  out.push(`${prefix}tld:${d.publicSuffix ?? labels[labels.length - 1] ?? ''}`);
  if (/%[0-9a-f]{2}/i.test(rawHost)) out.push(`${prefix}escaped`);
}

function bucket(n: number): number {
  return n === 0 ? 0 : Math.min(Math.ceil(Math.log2(n + 1)), 20);
}

/** Everything but the body words as string tokens, and the body words in order. */
function split(
  msg: MessageFeatures,
  options: TokenizerOptions,
): { out: string[]; words: string[]; window: number } {
  const window = options.window ?? 2;
  const maxLen = options.maxWordLength ?? 24;
  const maxWords = options.maxWords ?? 6000;
  const listHeaders = options.listHeaders ?? false;
  const out: string[] = [];

  // Headers.
  const seenNames = new Set<string>();
  for (const f of msg.headers.fields) {
    const key = f.key;
    if (SKIPPED_HEADERS.has(key) || SKIPPED_PREFIXES.some((p) => key.startsWith(p))) continue;
    if (!listHeaders && LIST_HEADER_RE.test(key)) continue;
    if (!seenNames.has(key)) {
      seenNames.add(key);
      out.push(`h:${key}`);
    }
  }
  for (const name of WORD_HEADERS) {
    if (name === 'subject' || (!listHeaders && name === 'sender')) continue;
    const v = msg.headers.getDecoded(name);
    if (v === undefined) continue;
    addWords(out, `${name}:`, v, maxLen);
    EMAIL_RE.lastIndex = 0;
    for (let m = EMAIL_RE.exec(v); m; m = EMAIL_RE.exec(v)) hostTokens(out, `${name}-dom:`, m[1] ?? '');
  }
  const subject = msg.subject;
  addWords(out, 's:', subject, maxLen);
  if (subject.length > 0) {
    const letters = subject.replace(/[^\p{L}]/gu, '');
    if (letters.length >= 6 && letters === letters.toUpperCase()) out.push('s-shape:caps');
    if (/[!?]{2,}/.test(subject)) out.push('s-shape:bang');
    if (/\$\d|\d+%/.test(subject)) out.push('s-shape:money');
  } else out.push('s-shape:empty');
  const ct = (msg.headers.get('content-type') ?? 'text/plain').toLowerCase();
  const mainType = /^\s*([a-z0-9-]+\/[a-z0-9.+-]+)/.exec(ct)?.[1] ?? 'invalid';
  out.push(`ct:${mainType}`);
  const charset = /charset\s*=\s*"?([^";\s]+)/.exec(ct)?.[1];
  if (charset) out.push(`charset:${charset}`);
  const to = msg.headers.getAll('to').join(',');
  out.push(`to-count:${bucket(to.split(',').filter((s) => s.includes('@')).length)}`);

  // The relay hosts and networks of the first six Received hops, as SpamAssassin's Bayes
  // reads them (its `*received` tokens): measured to help across time on the corpus.
  for (const r of msg.headers.getAll('received').slice(0, 6)) {
    RCVD_HOST_RE.lastIndex = 0;
    for (let m = RCVD_HOST_RE.exec(r); m; m = RCVD_HOST_RE.exec(r)) hostTokens(out, 'rcvd:', m[1] ?? '');
    RCVD_IP_RE.lastIndex = 0;
    for (let m = RCVD_IP_RE.exec(r); m; m = RCVD_IP_RE.exec(r)) out.push(`rcvd-ip:${m[1]}.${m[2]}`);
    const via = /\bwith\s+([a-z]{1,20})/i.exec(r)?.[1];
    if (via) out.push(`rcvd-with:${via.toLowerCase()}`);
  }
  // Content-Type boundary shape, the whole mailer string, and the shape of From.
  const boundary = /boundary\s*=\s*"?([^";\s]+)/.exec(ct)?.[1];
  if (boundary)
    out.push(`ct-boundary:${boundary.replace(/[0-9]/g, '9').replace(/[a-f]/g, 'x').slice(0, 24)}`);
  const mailer = msg.headers.get('x-mailer') ?? msg.headers.get('user-agent');
  out.push(
    mailer ? `x-mailer-full:${mailer.toLowerCase().replace(/\s+/g, ' ').slice(0, 60)}` : 'x-mailer:none',
  );
  out.push(
    /^\s*"?[^"<]+?"?\s*</.test(msg.headers.get('from') ?? '') ? 'from-shape:named' : 'from-shape:bare',
  );
  // HTML attribute text the rendered text leaves out (image alt, titles) and the image count.
  if (msg.html.length > 0) {
    ALT_RE.lastIndex = 0;
    let k = 0;
    for (let m = ALT_RE.exec(msg.html); m && k < 100; m = ALT_RE.exec(msg.html), k++) {
      addWords(out, 'alt:', m[2] ?? m[3] ?? '', maxLen);
    }
    IMG_RE.lastIndex = 0;
    let imgs = 0;
    while (imgs < 1000 && IMG_RE.exec(msg.html)) imgs++;
    out.push(`imgs:${bucket(imgs)}`);
  }

  // Structure.
  out.push(`parts:${bucket(msg.parts.length)}`);
  for (const p of msg.parts) {
    out.push(`part:${p.contentType.toLowerCase()}`);
    if (p.filename) {
      const ext = /\.([a-z0-9]{1,8})$/i.exec(p.filename)?.[1];
      out.push(`attach:${ext ? ext.toLowerCase() : 'noext'}`);
    }
  }
  out.push(`text-size:${bucket(msg.text.length >> 6)}`);
  if (msg.html.length > 0) {
    out.push(`html-size:${bucket(msg.html.length >> 6)}`);
    const ratio = msg.text.length / msg.html.length;
    out.push(`html-ratio:${Math.min(Math.floor(ratio * 10), 10)}`);
    TAG_RE.lastIndex = 0;
    let tags = 0;
    for (let m = TAG_RE.exec(msg.html); m && tags < 2000; m = TAG_RE.exec(msg.html), tags++) {
      const tag = (m[1] ?? '').toLowerCase();
      out.push(`tag:${tag}`);
      const attrs = m[2] ?? '';
      ATTR_RE.lastIndex = 0;
      for (let a = ATTR_RE.exec(attrs); a; a = ATTR_RE.exec(attrs))
        out.push(`attr:${tag}:${(a[1] ?? '').toLowerCase()}`);
    }
  }

  // URLs and addresses in the body (text and HTML).
  for (const source of [msg.text, msg.html]) {
    URL_RE.lastIndex = 0;
    let n = 0;
    for (let m = URL_RE.exec(source); m && n < 500; m = URL_RE.exec(source), n++) {
      hostTokens(out, 'url:', m[1] ?? '');
      const path = m[2] ?? '';
      // Words of the path and query (at most 12 per URL): campaign and tracker names.
      let k = 0;
      for (const w of path.toLowerCase().split(/[^a-z0-9]+/)) {
        if (w.length >= 3 && w.length <= 20 && k++ < 12) out.push(`url-w:${w}`);
      }
      if (/\.(?:exe|scr|zip|php|cgi|asp)\b/i.test(path)) out.push('url-path:active');
      if (path.includes('?')) out.push('url-path:query');
    }
    EMAIL_RE.lastIndex = 0;
    n = 0;
    for (let m = EMAIL_RE.exec(source); m && n < 200; m = EMAIL_RE.exec(source), n++) {
      hostTokens(out, 'email:', m[1] ?? '');
    }
  }

  // Body words with orthogonal sparse bigrams.
  const words: string[] = [];
  WORD_RE.lastIndex = 0;
  const text = msg.text;
  for (let m = WORD_RE.exec(text); m && words.length < maxWords; m = WORD_RE.exec(text)) {
    let w = m[0].toLowerCase();
    if (w.length > maxLen) w = `long:${w.slice(0, 4)}:${Math.min(w.length >> 3, 8)}`;
    words.push(w);
  }
  return { out, words, window };
}

/**
 * Turns a message into tokens: selected header words (prefixed with the header), the names of
 * the headers present, decoded body words with sparse bigrams (`word~gap~word`), URL hosts,
 * HTML tag and attribute names, and the MIME structure. Tokens repeat as often as they occur;
 * the classifier counts each once per message. This readable form is for reports and tests;
 * the classifier uses {@link tokenIds}, the same tokens hashed.
 */
export function tokenize(msg: MessageFeatures, options: TokenizerOptions = {}): string[] {
  const { out, words, window } = split(msg, options);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    out.push(w);
    for (let d = 1; d < window && i + d < words.length; d++) {
      out.push(`${w}~${d}~${words[i + d]}`);
    }
  }
  return out;
}

const SEED_A = 0x811c9dc5;
const SEED_B = 0x01000193 ^ 0x5bd1e995;

function fnv(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Two 32-bit hashes as one integer below 2^52 (exact in a double, a fast Map key). */
function join52(a: number, b: number): number {
  return a * 1048576 + (b >>> 12);
}

/** The id of one string token, as {@link tokenIds} makes it. */
export function tokenId(token: string): number {
  return join52(fnv(token, SEED_A), fnv(token, SEED_B));
}

/**
 * The tokens of {@link tokenize} as 52-bit hashes, in the same order. Pairs of body words are
 * hashed from the two words' hashes and the gap, so no pair string is ever built: this is the
 * hot path of classification. Two tokens share an id with a chance of about 1 in 2^52 / n.
 */
export function tokenIds(msg: MessageFeatures, options: TokenizerOptions = {}): number[] {
  const { out, words, window } = split(msg, options);
  const ids: number[] = new Array(out.length);
  for (let i = 0; i < out.length; i++) ids[i] = tokenId(out[i] as string);
  const n = words.length;
  const ha = new Uint32Array(n);
  const hb = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const w = words[i] as string;
    ha[i] = fnv(w, SEED_A);
    hb[i] = fnv(w, SEED_B);
  }
  for (let i = 0; i < n; i++) {
    const a = ha[i] as number;
    const b = hb[i] as number;
    ids.push(join52(a, b));
    for (let d = 1; d < window && i + d < n; d++) {
      const pa = fmix((Math.imul(a, 0x9e3779b1) ^ (ha[i + d] as number) ^ Math.imul(d, 0x27d4eb2f)) >>> 0);
      const pb = fmix((Math.imul(b, 0x165667b1) ^ (hb[i + d] as number) ^ Math.imul(d, 0x61c88647)) >>> 0);
      ids.push(join52(pa, pb));
    }
  }
  return ids;
}
