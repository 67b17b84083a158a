/**
 * The `eval:` functions we implement, named as in SpamAssassin's plugins (HeaderEval,
 * MIMEEval, HTMLEval, FreeMail, RelayEval, BodyEval). Chosen by how often their rules fire
 * on the SpamAssassin corpus under spamd; a rule that calls any other function is listed as
 * skipped. Each returns a number (0 = no hit) and never throws on message content.
 */
import { HTML_FIGURES, HTML_MIME_EVALS, HTML_TEXTS, MIME_TESTS } from './eval-html-mime.js';
import { RECEIVED_EVALS } from './eval-received.js';
import type { EvalFn, SaEvalContext } from './eval-types.js';
import { parseMailDate } from './received.js';

export type { EvalFn, SaEvalContext } from './eval-types.js';

/** A parsed `eval:name(args)` call. */
export interface SaEvalCall {
  readonly name: string;
  readonly args: readonly string[];
}

/** Parses `name('a', "b", 3)` into a name and unquoted arguments. */
export function parseEvalCall(text: string): SaEvalCall {
  const m = /^\s*(\w+)\s*\((.*)\)\s*$/s.exec(text);
  if (!m) {
    if (/^\s*\w+\s*$/.test(text)) return { name: text.trim(), args: [] };
    throw new Error(`eval call not understood: ${text}`);
  }
  const args: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^,\s]+))\s*(?:,|$)/gy;
  const body = m[2] as string;
  while (re.lastIndex < body.length) {
    const a = re.exec(body);
    if (!a) break;
    args.push(a[1] ?? a[2] ?? a[3] ?? '');
    if (a[0] === '') break;
  }
  return { name: m[1] as string, args };
}

function domainOf(addr: string): string {
  const m = /@([^@]*)$/.exec(addr);
  return m ? (m[1] as string) : '';
}

function secondLevel(domain: string): string {
  return domain.replace(/^.+\.([^.]+\.[^.]+)$/, '$1');
}

interface FreemailLists {
  readonly exact: ReadonlySet<string>;
  readonly wildcards: readonly RegExp[];
  readonly white: ReadonlySet<string>;
}

// Built once per list object (the rule set's), not once per message.
const freemailCache = new WeakMap<ReadonlyMap<string, readonly string[]>, FreemailLists>();

function freemailLists(lists: ReadonlyMap<string, readonly string[]>): FreemailLists {
  let f = freemailCache.get(lists);
  if (!f) {
    const all = lists.get('freemail_domains') ?? [];
    f = {
      exact: new Set(all.filter((d) => !d.includes('*'))),
      wildcards: all
        .filter((d) => d.includes('*'))
        .map((d) => new RegExp(`^${d.replace(/[.+?^$()[\]{}|\\]/g, '\\$&').replace(/\*/g, '[^.]*')}$`)),
      white: new Set([
        ...(lists.get('freemail_whitelist') ?? []),
        ...(lists.get('freemail_welcomelist') ?? []),
      ]),
    };
    freemailCache.set(lists, f);
  }
  return f;
}

function isFreemail(email: string, lists: ReadonlyMap<string, readonly string[]>): boolean {
  const domain = domainOf(email).toLowerCase();
  if (!domain || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return false;
  const f = freemailLists(lists);
  if (f.white.has(email) || f.white.has(domain)) return false;
  return f.exact.has(domain) || f.wildcards.some((re) => re.test(domain));
}

function envelopeFrom(ctx: SaEvalContext): string | undefined {
  return ctx.message.get('EnvelopeFrom')[0];
}

function between(value: number, min: string | undefined, max: string | undefined): boolean {
  const lo = min === undefined || min === 'undef' ? Number.NEGATIVE_INFINITY : Number(min);
  const hi = max === undefined || max === 'undef' || max === 'inf' ? Number.POSITIVE_INFINITY : Number(max);
  return value >= lo && value < hi;
}

/** HeaderEval's `_get_received_header_times`: fetchmail and local hops set aside. */
function receivedTimes(ctx: SaEvalContext): number[] {
  const received = ctx.message
    .get('Received')
    .join('')
    .split('\n')
    .filter((l) => /\S/.test(l));
  if (!received.length) return [];
  const local: string[] = [];
  if (
    /\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)/.test(received[0] as string) ||
    /qmail \d+ invoked by uid \d+/.test(received[0] as string)
  ) {
    local.push(received.shift() as string);
  }
  if (received.length && /\bby localhost with \w+ \(fetchmail-[\d.]+/.test(received[0] as string))
    local.push(received.shift() as string);
  else if (local.length) received.unshift(local.shift() as string);
  const times: number[] = [];
  for (const r of received) {
    const m = /(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)/.exec(r);
    const t = m ? parseMailDate(m[1] as string) : undefined;
    if (t !== undefined) times.push(t);
  }
  return times;
}

/** HeaderEval's `_check_date_diff` in seconds: Date minus the closest Received time. */
function dateDiff(ctx: SaEvalContext): number {
  const date = ctx.message.get('Date')[0];
  const sent = date ? parseMailDate(date) : undefined;
  if (sent === undefined) return 0;
  const diffs = receivedTimes(ctx).map((t) => sent - t);
  if (!diffs.length) return 0;
  if (diffs.length > 1 && diffs[diffs.length - 1] === 0) diffs.pop();
  diffs.sort((a, b) => Math.abs(a) - Math.abs(b));
  return diffs[0] as number;
}

function bool(b: boolean): number {
  return b ? 1 : 0;
}

function textParts(ctx: SaEvalContext): { html: number; text: number } {
  let html = 0;
  let text = 0;
  for (const p of ctx.message.mime.parts) {
    if (p.type === 'text/html') html++;
    else if (p.type === 'text/plain') text++;
  }
  return { html, text };
}

/**
 * Arguments each function accepts, where it implements only some of its tests; a rule
 * calling it with others is skipped, not run as a silent miss.
 */
export const SA_EVAL_ARGS: Readonly<Record<string, (args: readonly string[]) => boolean>> = {
  html_test: ([test]) => test === 'html' || test === 'font_face_bad',
  check_msg_parse_flags: ([flag]) => flag === 'missing_mime_boundary' || flag === 'mime_epilogue_exists',
  html_range: ([test]) => HTML_FIGURES.has(test ?? ''),
  html_eval: ([test]) => HTML_FIGURES.has(test ?? ''),
  html_text_match: ([field]) => HTML_TEXTS.has(field ?? ''),
  check_for_mime: ([test]) => MIME_TESTS.has(test ?? ''),
  check_freemail_replyto: ([what]) => what === undefined || what === 'replyto',
};

/** Every implemented eval function, by name. */
export const SA_EVALS: Readonly<Record<string, EvalFn>> = {
  check_equal_from_domains(ctx) {
    const from = ctx.message.get('From:addr')[0] ?? '';
    const fd = secondLevel(domainOf(from));
    if (fd === '') return 0;
    const ed = secondLevel(domainOf(envelopeFrom(ctx) ?? ''));
    if (ed === '') return 0;
    return bool(fd.toLowerCase() !== ed.toLowerCase());
  },
  check_freemail_from(ctx, [re]) {
    const addrs = new Set(
      [...ctx.message.get('From:addr'), envelopeFrom(ctx) ?? ''].map((a) => a.toLowerCase()).filter(Boolean),
    );
    const r = re ? new RegExp(re) : undefined;
    for (const a of addrs) if (isFreemail(a, ctx.lists) && (!r || r.test(a))) return 1;
    return 0;
  },
  check_freemail_header(ctx, [header, re]) {
    if (!header) return 0;
    const r = re ? new RegExp(re) : undefined;
    const addrs = header === 'EnvelopeFrom' ? [envelopeFrom(ctx) ?? ''] : ctx.message.get(`${header}:addr`);
    for (const a of addrs.map((x) => x.toLowerCase()))
      if (isFreemail(a, ctx.lists) && (!r || r.test(a))) return 1;
    return 0;
  },
  check_for_mime_html(ctx) {
    if (/^text\/html/i.test(ctx.message.get('Content-Type').join(''))) return 1;
    return bool(textParts(ctx).html > 0);
  },
  check_for_mime_html_only(ctx) {
    if (/^text\/html/i.test(ctx.message.get('Content-Type').join(''))) return 1;
    const { html, text } = textParts(ctx);
    return bool(html > 0 && text === 0);
  },
  html_test(ctx, [test]) {
    if (test === 'html') return bool(ctx.message.html().some((h) => h.tags.size > 0));
    if (test === 'font_face_bad') return bool(ctx.message.html().some((h) => h.stats.fontFaceBad));
    return 0;
  },
  html_tag_exists(ctx, [tag]) {
    return bool(ctx.message.html().some((h) => h.tags.has((tag ?? '').toLowerCase())));
  },
  html_image_only(ctx, [min, max]) {
    // HTML.pm's `length` is the size of the part's HTML source, not of its text.
    return bool(
      ctx.message
        .html()
        .some(
          (h) =>
            h.stats.inside.has('img') &&
            h.stats.sourceLength > Number(min) &&
            h.stats.sourceLength <= Number(max),
        ),
    );
  },
  check_all_trusted(ctx) {
    const r = ctx.message.relays();
    return bool(r.trusted.length > 0 && r.untrusted.length === 0);
  },
  check_no_relays(ctx) {
    const r = ctx.message.relays();
    return bool(r.trusted.length + r.untrusted.length === 0);
  },
  check_for_missing_to_header(ctx) {
    return bool(ctx.message.get('To').length === 0 && ctx.message.get('Apparently-To').length === 0);
  },
  subject_is_all_caps(ctx) {
    let subject = (ctx.message.get('Subject')[0] ?? '').replace(/\n$/, '');
    subject = subject.replace(/^(?:(?:Re|Fwd|Fw|Aw|Antwort|Sv):\s*)+/i, '');
    if (subject.length < 10) return 0;
    if (!/\s/.test(subject)) return 0;
    return bool(/[A-Z]/.test(subject) && !/[a-z]/.test(subject) && /^[\x00-\x7f]*$/.test(subject));
  },
  check_for_shifted_date(ctx, [min, max]) {
    const diff = dateDiff(ctx) / 3600;
    return bool(between(diff, min, max));
  },
  check_outlook_message_id(ctx) {
    const id = ctx.message.get('MESSAGEID').join('');
    const m = /^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@/.exec(id);
    if (!m) return 0;
    const token = Number.parseInt(m[1] as string, 16);
    const expect = (t: number) => Math.trunc(t * 0.0023283064365387 + 27111902.8329849);
    const date = parseMailDate(ctx.message.get('Date')[0] ?? '') ?? 0;
    if (Math.abs(token - expect(date)) < 250) return 0;
    const rcvd = ctx.message.get('Received').join('');
    const dm = /(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+).*?$/.exec(rcvd);
    const t = dm ? (parseMailDate(dm[1] as string) ?? 0) : 0;
    return bool(Math.abs(token - expect(t)) >= 250);
  },
  check_msg_parse_flags(ctx, [flag]) {
    if (flag === 'mime_epilogue_exists') return bool(ctx.message.mime.epilogue);
    return bool(flag === 'missing_mime_boundary' && ctx.message.mime.missingBoundary);
  },
  check_freemail_replyto(ctx) {
    const from = ctx.message.get('From:addr').map((a) => a.toLowerCase());
    const replyTo = ctx.message.get('Reply-To:addr').map((a) => a.toLowerCase());
    const fromFm = from.some((a) => isFreemail(a, ctx.lists));
    const replyFm = replyTo.some((a) => isFreemail(a, ctx.lists));
    return bool(fromFm && replyFm && !from.some((a) => replyTo.includes(a)));
  },
  check_body_length(ctx, [max]) {
    const body = ctx.message.bodyLines().slice(1).join('');
    return bool(body.length < Number(max));
  },
  ...HTML_MIME_EVALS,
  ...RECEIVED_EVALS,
};
