import { addressDomain } from '@mef/core';
import { baseDomain, isIpHost, urlHost } from './analysis.js';
import { defineRule, type Rule } from './rule.js';

/** The GTUBE test string (SpamAssassin's Generic Test for Unsolicited Bulk Email). */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const MID_RE = /^<[^<>\s@]+@[^<>\s@]+>$/;
const EMAIL_IN_NAME_RE = /[\w.+-]{1,64}@([\w-]+(?:\.[\w-]+)+)/;
const ENCODED_WORD_RE = /=\?([^?\s]*)\?([^?\s]*)\?([^?\s]*)\?=/g;
const EIGHT_BIT_RE = /[\u0080-\uffff]/;
const SUSPICIOUS_SUBJECT_RE =
  /\b(?:viagra|cialis|v[i1!]agra|mortgage rates?|refinanc\w*|lose weight|weight loss|earn \$?\d|make money|work from home|casino|lottery|winner|you(?:'ve| have) won|100% free|act now|limited time|urgent reply|pre-?approved|no (?:credit )?check|cheap (?:meds|pills|software)|penis|enlarge\w*|f ?r ?e ?e\b.{0,3}!|\$\$+)/i;
const BULK_MAILER_RE =
  /(?:mass ?mail|bulk ?mail|group ?mail|advanced mass sender|send-?safe|worldmerge|emailer platinum|super ?mail ?sender|dynamic ?mail|mailking|ultimate ?e-?mail|stealth ?mail|extractor|aureate|floodgate|jiffy ?mail|email ?magic|mail ?bomber|the ?bat! ?\(v1\.[0-5])/i;
const BODY_PHRASES_RE =
  /\b(?:click here|remove (?:me|yourself)|to (?:be )?remove[d]? from|unsubscribe|100% (?:free|guaranteed|satisfied)|risk[- ]free|no obligation|act now|order now|limited time|special promotion|money back|guarantee[d]?|credit card|cash bonus|earn (?:extra )?(?:cash|money|\$)|double your|extra income|home based|financial freedom|million dollars|amazing|dear friend|this is not spam|not (?:a )?spam|bulk e-?mail|opt[- ]?in|you have been selected|call (?:now|toll free)|toll[- ]free|free (?:gift|trial|access|quote|info|offer)|lowest price|best price|save up to|while supplies last|meet singles|online (?:pharmacy|casino)|prescription|weight loss|lose weight|mortgage|refinance|debt|viagra|nigeria|bank account|wire transfer|beneficiary)\b/gi;
const SHORTENERS = new Set([
  'bit.ly',
  'tinyurl.com',
  'goo.gl',
  't.co',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'tiny.cc',
  'shorturl.at',
  'v.gd',
  'rb.gy',
  't.ly',
  'bl.ink',
  'lnkd.in',
  'shorte.st',
  'adf.ly',
  'clck.ru',
  'x.co',
]);
// Hidden text with words in it: display:none or visibility:hidden, a zero font size, or white text.
const HIDDEN_RE =
  /(?:(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.\d+)?(?:px|pt|em)?\s*[;"'])[^<>]{0,400}>\s*[^<\s]{3}|color\s*[:=]\s*["']?#?(?:fff(?:fff)?|white)\b[^<>]{0,400}>[^<]{8})/i;
const FREEMAIL = new Set([
  'hotmail.com',
  'msn.com',
  'yahoo.com',
  'aol.com',
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'live.com',
  'mail.com',
  'gmx.com',
  'gmx.net',
  'gmx.de',
  'web.de',
  'yandex.ru',
  'mail.ru',
  'excite.com',
  'lycos.com',
  'netscape.net',
  'juno.com',
  'usa.net',
  'rediffmail.com',
  'icloud.com',
  'protonmail.com',
  'zoho.com',
]);
const WHITE_BG_RE =
  /<body[^<>]{0,400}bgcolor\s*=\s*["']?#?(?:fff(?:fff)?|white)\b|background(?:-color)?\s*:\s*#?(?:fff(?:fff)?|white)\b/i;
const EXEC_EXT_RE = /\.(?:exe|scr|pif|bat|cmd|com|vbs|vbe|js|jse|wsf|wsh|jar|lnk|msi|hta|cpl|ps1|reg)$/i;
const DOUBLE_EXT_RE =
  /\.(?:pdf|docx?|xlsx?|pptx?|txt|rtf|jpe?g|png|gif|html?|zip|rar)\s*\.(?:exe|scr|pif|bat|cmd|com|vbs|js|jar|lnk|hta)$/i;
const ARCHIVE_RE = /\.(?:zip|rar|7z|ace|arj|cab|gz|iso|img)$/i;
// A host name after `from` or `by` in a Received header (bounded, one label run per match).
const RCVD_HOST_RE = /\b(?:from|by)\s+([a-z0-9][a-z0-9.-]{0,252}\.[a-z]{2,63})\b/gi;
/** Received headers read for FROM_DOMAIN_NOT_RCVD: a bound against a flood of them. */
const MAX_RECEIVED = 50;

function headerValue(
  msg: { headers: { get(n: string): string | undefined } },
  name: string,
): string | undefined {
  return msg.headers.get(name);
}

/** The built-in rule set, in evaluation order. */
export const builtinRules: readonly Rule[] = Object.freeze([
  defineRule({
    name: 'GTUBE',
    score: 1000,
    area: 'body',
    description: 'The GTUBE test string: a message built to be classed as spam',
    test: (msg) => msg.text.includes(GTUBE) || msg.html.includes(GTUBE),
  }),
  defineRule({
    name: 'MISSING_DATE',
    score: 1.0,
    area: 'header',
    description: 'No Date header',
    test: (msg) => !msg.headers.has('date'),
  }),
  defineRule({
    name: 'INVALID_DATE',
    score: 1.0,
    area: 'header',
    description: 'Date header that does not parse as an RFC 5322 date',
    test: (msg) => {
      const d = headerValue(msg, 'date');
      if (d === undefined) return false;
      const t = Date.parse(d.replace(/\s*\([^)]*\)\s*$/, ''));
      if (Number.isNaN(t)) return true;
      return (
        !/\b\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}/.test(d) ||
        /[+-](?:1[5-9]|[2-9]\d)\d{2}\b/.test(d)
      );
    },
  }),
  defineRule({
    name: 'MISSING_MID',
    score: 0.5,
    area: 'header',
    description: 'No Message-ID header',
    test: (msg) => !msg.headers.has('message-id'),
  }),
  defineRule({
    name: 'INVALID_MSGID',
    score: 1.0,
    area: 'header',
    description: 'Message-ID that is not of the form <left@right>',
    test: (msg) => {
      const v = headerValue(msg, 'message-id');
      return v !== undefined && !MID_RE.test(v);
    },
  }),
  defineRule({
    name: 'MISSING_FROM',
    score: 1.5,
    area: 'header',
    description: 'No From header, or one without an address',
    test: (msg) => {
      const v = headerValue(msg, 'from');
      return v === undefined || !/@/.test(v);
    },
  }),
  defineRule({
    name: 'MISSING_SUBJECT',
    score: 0.5,
    area: 'header',
    description: 'No Subject header',
    test: (msg) => !msg.headers.has('subject'),
  }),
  defineRule({
    name: 'FREEMAIL_REPLYTO',
    score: 1.0,
    area: 'header',
    description: 'Reply-To sends answers to a free-mail mailbox while From names another domain',
    test: (msg) => {
      // Reply-To first: most messages have none, and then From need not be parsed.
      const reply = addressDomain(msg.headers.get('reply-to'));
      if (!reply || !FREEMAIL.has(baseDomain(reply))) return false;
      const from = addressDomain(msg.headers.get('from'));
      if (!from) return false;
      return baseDomain(from) === baseDomain(reply) ? false : [from, reply];
    },
  }),
  defineRule({
    name: 'FROM_DISPLAY_FORGED',
    score: 2.0,
    area: 'header',
    description: 'The From display name shows an address at another domain than the real one',
    test: (msg) => {
      const from = msg.headers.getDecoded('from');
      if (!from) return false;
      const m = /^\s*"?([^"<]*)"?\s*<([^>]*)>/.exec(from);
      if (!m) return false;
      const shown = EMAIL_IN_NAME_RE.exec(m[1] ?? '')?.[1];
      if (!shown) return false;
      const real = addressDomain(`<${m[2] ?? ''}>`);
      if (!real) return false;
      return baseDomain(shown) === baseDomain(real) ? false : [shown.toLowerCase(), real];
    },
  }),
  defineRule({
    name: 'SUBJ_ALL_CAPS',
    score: 1.0,
    area: 'header',
    description: 'Subject written in capitals only',
    test: (msg) => {
      const letters = msg.subject.replace(/[^\p{L}]/gu, '');
      return letters.length >= 10 && letters === letters.toUpperCase() && letters !== letters.toLowerCase();
    },
  }),
  defineRule({
    name: 'SUBJ_SUSPICIOUS',
    score: 1.0,
    area: 'header',
    description: 'Subject with words typical of spam (drugs, loans, prizes, money)',
    test: (msg) => {
      const m = SUSPICIOUS_SUBJECT_RE.exec(msg.subject);
      return m ? [m[0].toLowerCase()] : false;
    },
  }),
  defineRule({
    name: 'SUBJ_EXCESS_PUNCT',
    score: 0.5,
    area: 'header',
    description: 'Subject with runs of exclamation or question marks',
    test: (msg) => /[!?]{3,}|!\s*!|\?\s*!/.test(msg.subject),
  }),
  defineRule({
    name: 'BULK_MAILER',
    score: 1.5,
    area: 'header',
    description: 'X-Mailer or User-Agent of a known bulk-mailing program',
    test: (msg) => {
      const v = `${msg.headers.get('x-mailer') ?? ''} ${msg.headers.get('user-agent') ?? ''}`;
      const m = BULK_MAILER_RE.exec(v);
      return m ? [m[0]] : false;
    },
  }),
  defineRule({
    name: 'HDR_8BIT_UNENCODED',
    score: 0.8,
    area: 'header',
    description: 'Raw 8-bit characters in Subject or From instead of RFC 2047 encoded words',
    test: (msg) =>
      EIGHT_BIT_RE.test(msg.headers.get('subject') ?? '') || EIGHT_BIT_RE.test(msg.headers.get('from') ?? ''),
  }),
  defineRule({
    name: 'HDR_BAD_ENCODING',
    score: 1.0,
    area: 'header',
    description:
      'Malformed RFC 2047 encoded word (unknown encoding or empty charset), or an unknown Content-Transfer-Encoding',
    test: (msg) => {
      for (const name of ['subject', 'from', 'to']) {
        const v = msg.headers.get(name);
        if (!v) continue;
        ENCODED_WORD_RE.lastIndex = 0;
        for (let m = ENCODED_WORD_RE.exec(v); m; m = ENCODED_WORD_RE.exec(v)) {
          if (!m[1] || !/^[bq]$/i.test(m[2] ?? '')) return [name];
        }
      }
      const cte = msg.headers.get('content-transfer-encoding');
      if (cte && !/^\s*(?:7bit|8bit|binary|base64|quoted-printable)\s*$/i.test(cte))
        return ['content-transfer-encoding'];
      return false;
    },
  }),
  defineRule({
    name: 'PRIORITY_HIGH',
    score: 0.3,
    area: 'header',
    description: 'Message marked urgent with X-Priority 1 or X-MSMail-Priority High',
    test: (msg) =>
      /^\s*1\b/.test(msg.headers.get('x-priority') ?? '') ||
      /high/i.test(msg.headers.get('x-msmail-priority') ?? ''),
  }),
  defineRule({
    name: 'TO_UNDISCLOSED',
    score: 0.5,
    area: 'header',
    description: 'No To header, or only undisclosed recipients',
    test: (msg) => {
      const to = msg.headers.get('to');
      return to === undefined || /undisclosed|recipient list suppressed/i.test(to) || !/@/.test(to);
    },
  }),
  defineRule({
    name: 'HTML_ONLY',
    score: 0.7,
    area: 'html',
    description: 'HTML without a plain-text alternative',
    test: (msg) =>
      msg.html.length > 0 && !msg.parts.some((p) => p.contentType.toLowerCase() === 'text/plain'),
  }),
  defineRule({
    name: 'HTML_HIDDEN_TEXT',
    score: 1.5,
    area: 'html',
    description: 'HTML hides text (display:none, visibility:hidden, zero-size fonts, white text on white)',
    test: (msg) => {
      if (!msg.html) return false;
      const m = HIDDEN_RE.exec(msg.html);
      if (!m) return false;
      if (/white|fff/i.test(m[0]) && !/(?:display|visibility|font-size|size)/i.test(m[0])) {
        return WHITE_BG_RE.test(msg.html) ? ['white on white'] : false;
      }
      return [m[0].slice(0, 40).replace(/\s+/g, ' ')];
    },
  }),
  defineRule({
    name: 'HTML_LINK_MISMATCH',
    score: 1.0,
    area: 'uri',
    description: 'A link whose text shows one domain and whose target is another',
    test: (_msg, a) => {
      for (const link of a.links) {
        const target = urlHost(link.href);
        if (!target) continue;
        const shown = /^(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?$/i.exec(link.text)?.[1];
        if (!shown) continue;
        if (baseDomain(shown) !== baseDomain(target)) return [shown.toLowerCase(), target];
      }
      return false;
    },
  }),
  defineRule({
    name: 'URL_SHORTENER',
    score: 0.5,
    area: 'uri',
    description: 'A link through a URL shortener, which hides the real target',
    test: (_msg, a) => {
      const hit = a.urlHosts.find((h) => SHORTENERS.has(h) || SHORTENERS.has(h.replace(/^www\./, '')));
      return hit ? [hit] : false;
    },
  }),
  defineRule({
    name: 'URL_IP_ADDRESS',
    score: 1.5,
    area: 'uri',
    description: 'A link to a bare IP address instead of a host name',
    test: (_msg, a) => {
      const hit = a.urlHosts.find(isIpHost);
      return hit ? [hit] : false;
    },
  }),
  defineRule({
    name: 'URI_NO_FROM_DOMAIN',
    score: 0,
    area: 'uri',
    description:
      "Links, none of them to the From address's domain (a company's own mail links to its own site); scored by learned scores only",
    test: (msg, a) => {
      const from = addressDomain(msg.headers.get('from'));
      if (!from || a.urlHosts.length === 0) return false;
      const own = baseDomain(from);
      return a.urlHosts.some((h) => baseDomain(h) === own) ? false : [own];
    },
  }),
  defineRule({
    name: 'FROM_DOMAIN_NOT_RCVD',
    score: 0,
    area: 'header',
    description:
      "No host named in the Received headers is in the From address's domain (mail that did not pass its sender's servers); scored by learned scores only",
    test: (msg) => {
      const from = addressDomain(msg.headers.get('from'));
      if (!from) return false;
      const own = baseDomain(from);
      let named = false;
      for (const v of msg.headers.getAll('received').slice(0, MAX_RECEIVED)) {
        RCVD_HOST_RE.lastIndex = 0;
        for (let m = RCVD_HOST_RE.exec(v); m; m = RCVD_HOST_RE.exec(v)) {
          named = true;
          if (baseDomain(m[1] ?? '') === own) return false;
        }
      }
      return named ? [own] : false;
    },
  }),
  defineRule({
    name: 'HTML_IMAGE_ONLY',
    score: 0.8,
    area: 'html',
    description: 'HTML made mostly of images, with little text',
    test: (msg) => {
      if (!msg.html) return false;
      const images = (msg.html.match(/<img\b/gi) ?? []).length;
      const words = (msg.text.match(/\p{L}{2,}/gu) ?? []).length;
      return images >= 1 && words < 40 + images * 20 ? [`${images} images`, `${words} words`] : false;
    },
  }),
  defineRule({
    name: 'BODY_SPAM_PHRASES',
    score: 1.5,
    area: 'body',
    description: 'Four or more distinct phrases typical of spam in the text',
    test: (msg) => {
      const found = new Set<string>();
      BODY_PHRASES_RE.lastIndex = 0;
      const text = msg.text;
      for (let m = BODY_PHRASES_RE.exec(text); m && found.size < 12; m = BODY_PHRASES_RE.exec(text)) {
        found.add(m[0].toLowerCase());
      }
      return found.size >= 4 ? [...found].slice(0, 6) : false;
    },
  }),
  defineRule({
    name: 'ATTACH_EXECUTABLE',
    score: 3.0,
    area: 'attachment',
    description: 'An attachment with an executable file extension',
    test: (msg) => {
      const hit = msg.parts.find((p) => p.filename && EXEC_EXT_RE.test(p.filename.trim()));
      return hit?.filename ? [hit.filename] : false;
    },
  }),
  defineRule({
    name: 'ATTACH_DOUBLE_EXT',
    score: 3.0,
    area: 'attachment',
    description: 'An attachment named like a document but ending in an executable extension',
    test: (msg) => {
      const hit = msg.parts.find((p) => p.filename && DOUBLE_EXT_RE.test(p.filename.trim()));
      return hit?.filename ? [hit.filename] : false;
    },
  }),
  defineRule({
    name: 'ATTACH_ARCHIVE_NO_TEXT',
    score: 1.0,
    area: 'attachment',
    description: 'An archive attachment with next to no text beside it',
    test: (msg) => {
      const hit = msg.parts.find((p) => p.filename && ARCHIVE_RE.test(p.filename.trim()));
      return hit?.filename && msg.text.trim().length < 100 ? [hit.filename] : false;
    },
  }),
  defineRule({
    name: 'ATTACH_TYPE_MISMATCH',
    score: 1.0,
    area: 'attachment',
    description:
      'An attachment whose declared type contradicts its extension (an executable sent as an image or text)',
    test: (msg) => {
      const hit = msg.parts.find(
        (p) =>
          p.filename &&
          EXEC_EXT_RE.test(p.filename.trim()) &&
          /^(?:image|text|audio|video)\//i.test(p.contentType),
      );
      return hit?.filename ? [hit.filename, hit.contentType] : false;
    },
  }),
]);
