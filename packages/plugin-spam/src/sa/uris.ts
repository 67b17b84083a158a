/**
 * The URI list `uri` rules run on, after SpamAssassin's `get_uri_list`: links from HTML,
 * URIs and bare `www.`/`ftp.` hosts and e-mail addresses found in the rendered text, each
 * with its canonical variants (scheme added, backslashes turned, `/` before `?`, numeric
 * hosts written as dotted quads, user-info dropped). Bounded: at most 1,000 raw URIs, each
 * cut at 8,192 bytes (SpamAssassin's MAX_URI_LENGTH).
 */

const MAX_URIS = 1000;
const MAX_URI_LENGTH = 8192;

// Schemed URIs and schemeless www./ftp. hosts in text; e-mail addresses separately.
const TEXT_URI =
  /\b(?:(?:https?|ftp|mailto|javascript|file):(?:\/\/)?[^\s<>"'`{}|\\^[\]]+|(?:www|ftp)\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s<>"'`{}|\\^[\]]*)/gi;
const TEXT_EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

function octet(s: string): string {
  if (/^0x/i.test(s)) return String(Number.parseInt(s.slice(2), 16));
  if (/^0[0-7]+$/.test(s)) return String(Number.parseInt(s, 8));
  return s.replace(/^0+(?=\d)/, '');
}

function ulongToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');
}

/** One URI and its canonical variants, as `uri_list_canonicalize` gives them. */
export function canonicalize(input: string): string[] {
  const uri = input.replace(/\n/g, '').trim().replace(/\r/g, '');
  if (uri.length <= 1 || /^(?:[#?&]|\/(?!\/))/.test(uri)) return [];
  const out = [uri];
  if (/^mailto:/i.test(uri) || /^[^:]*@/.test(uri)) {
    const q = /^([^@]+@[^?]+)\?/.exec(uri);
    if (q) out.push(q[1] as string);
    const amp = /^([^@]+@[^?&]+)&/.exec(uri);
    if (amp) out.push(amp[1] as string);
    return out;
  }
  let n = uri.replace(/\\/g, '/').replace(/^(https?:)\/{0,2}/i, '$1//');
  if (!/^[-_a-z0-9]+:/i.test(n)) n = /^ftp\./.test(n) ? `ftp://${n}` : `http://${n}`;
  n = n.replace(/^(https?:\/\/[^/?#]+)([?#])/i, '$1/$2');
  n = n.replace(/&#0*(3[3-9]|[4-9]\d|1[01]\d|12[0-6]);/g, (_, d: string) => String.fromCharCode(Number(d)));
  if (n !== uri) out.push(n);
  const m = /^(https?:\/\/)([^@/?#]*@)?([^/?#:]+)((?::(\d*))?.*)$/i.exec(n);
  if (m) {
    const proto = m[1] as string;
    let host = m[3] as string;
    const rest = m[4] as string;
    const lower = host.toLowerCase();
    if (lower !== host) {
      out.push(proto + lower + rest);
      host = lower;
    }
    if (m[2]) out.push(proto + host + rest);
    const stripped = host.replace(/[^0-9A-Za-z]+$/, '');
    if (stripped !== host) out.push(proto + stripped + rest);
    const quad =
      /^((?:0x[0-9a-f]+|\d+))\.((?:0x[0-9a-f]+|\d+))\.((?:0x[0-9a-f]+|\d+))\.((?:0x[0-9a-f]+|\d+))$/i.exec(
        host,
      );
    if (quad)
      out.push(proto + [quad[1], quad[2], quad[3], quad[4]].map((o) => octet(o as string)).join('.') + rest);
    else if (/^0x[0-9a-f]+$/i.test(host))
      out.push(proto + ulongToIp(Number.parseInt(host.slice(-8), 16)) + rest);
    else if (/^\d+$/.test(host)) out.push(proto + ulongToIp(Number(host)) + rest);
    const redirect = /(https?:\/{0,2}[^&#]+)/i.exec(rest);
    if (redirect?.[1]?.includes('.')) out.push(...canonicalize(redirect[1]));
  }
  return out;
}

/** The unique URI list from HTML links and rendered texts. */
export function extractUris(htmlLinks: readonly string[], texts: readonly string[]): string[] {
  const raw: string[] = [...htmlLinks];
  for (const text of texts) {
    if (raw.length >= MAX_URIS) break;
    for (const m of text.matchAll(TEXT_URI)) {
      let u = m[0].replace(/[.,;:!?)'"]+$/, '');
      if (/^www\./i.test(u)) u = `http://${u}`;
      else if (/^ftp\./i.test(u)) u = `ftp://${u}`;
      raw.push(u);
      if (raw.length >= MAX_URIS) break;
    }
    for (const m of text.matchAll(TEXT_EMAIL)) {
      if (raw.length >= MAX_URIS) break;
      const prev = text[(m.index ?? 0) - 1];
      if (prev === ':' || prev === '/') continue;
      raw.push(`mailto:${m[0]}`);
    }
  }
  const seen = new Set<string>();
  for (const u of raw.slice(0, MAX_URIS)) {
    for (const v of canonicalize(u.slice(0, MAX_URI_LENGTH))) seen.add(v);
  }
  return [...seen];
}
