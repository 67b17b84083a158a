/**
 * The relays of a message, read from its Received headers (newest first), with the trust
 * SpamAssassin infers when no `trusted_networks` is set: relays from private, loopback and
 * link-local addresses at the top are trusted, the first public one and all after it are
 * not; a mail-fetcher hand-over (`with POP3`/`with IMAP`) restarts the walk, as in
 * SpamAssassin's Received.pm. The common sendmail, Postfix, Exim and qmail formats are read;
 * the relays give the `X-Spam-Relays-*` pseudo-headers and the relay eval functions.
 */

/** One relay, from one Received header. */
export interface SaRelay {
  readonly ip: string;
  readonly rdns: string;
  readonly helo: string;
  readonly by: string;
  readonly ident: string;
  /** From `envelope-from <...>` in the line; undefined when it names none. */
  readonly envfrom: string | undefined;
  readonly id: string;
  readonly auth: string;
}

const PRIVATE =
  /^(?:10\.|127\.|169\.254\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.|::1$|fe80:|f[cd][0-9a-f]{2}:)/i;

/** True for addresses SpamAssassin treats as internal when it infers trust. */
export function isPrivateIp(ip: string): boolean {
  return PRIVATE.test(ip);
}

const IP = String.raw`(?:\d{1,3}\.){3}\d{1,3}|IPv6:[0-9a-fA-F:.]+|[0-9a-fA-F]*:[0-9a-fA-F:.]+`;

function cleanRdns(rdns: string): { rdns: string; ident: string } {
  let ident = '';
  let r = rdns;
  const at = r.lastIndexOf('@');
  if (at !== -1) {
    ident = r.slice(0, at).replace(/^IDENT:/i, '');
    r = r.slice(at + 1);
  }
  if (/^(?:unknown|\[.*\])$/i.test(r) || !r.includes('.')) r = r.toLowerCase() === 'localhost' ? r : '';
  return { rdns: r, ident };
}

interface FromPart {
  readonly ip: string;
  readonly helo: string;
  readonly rdns: string;
  readonly ident: string;
}

function unknownless(name: string): string {
  return name.toLowerCase() === 'unknown' ? '' : name;
}

/** The `from` clause formats we read, most specific first (sendmail, Postfix, Exim, qmail). */
const FORMATS: readonly (readonly [RegExp, (r: RegExpExecArray, exim: boolean, from: string) => FromPart])[] =
  [
    [
      new RegExp(`^\\[(${IP})\\] \\(helo=(\\S+)\\)`),
      (r) => ({ ip: r[1] as string, helo: r[2] as string, rdns: '', ident: '' }),
    ],
    [
      new RegExp(`^(\\S+) \\(\\[(${IP})\\](?::\\d+)? helo=(\\S+)\\)`),
      (r) => ({ ...cleanRdns(r[1] as string), ip: r[2] as string, helo: r[3] as string }),
    ],
    [
      new RegExp(`^(\\S+) \\((\\S+) ?\\[(${IP})\\](?: \\(may be forged\\))?\\)`),
      (r) => ({ ...cleanRdns(r[2] as string), ip: r[3] as string, helo: r[1] as string }),
    ],
    [
      new RegExp(`^(\\S+) \\(\\[(${IP})\\]\\)`),
      (r, exim) => ({
        ip: r[2] as string,
        helo: r[1] as string,
        rdns: exim ? (r[1] as string) : '',
        ident: '',
      }),
    ],
    [
      new RegExp(`^(\\S+) \\(HELO (\\S+)\\) \\((?:\\S*@)?\\[?(${IP})\\]?\\)`),
      (r) => ({ ip: r[3] as string, helo: r[2] as string, rdns: unknownless(r[1] as string), ident: '' }),
    ],
    [
      new RegExp(`^(\\S+) \\((${IP})\\)`),
      (r) => ({ ip: r[2] as string, helo: r[1] as string, rdns: unknownless(r[1] as string), ident: '' }),
    ],
    [new RegExp(`^\\[(${IP})\\]`), (r) => ({ ip: r[1] as string, helo: `[${r[1]}]`, rdns: '', ident: '' })],
    [
      new RegExp(`\\[(${IP})\\]`),
      (r, _exim, from) => ({ ip: r[1] as string, helo: from.split(' ')[0] as string, rdns: '', ident: '' }),
    ],
  ];

/**
 * The relays whose MTA always looks up the client's reverse DNS (the sendmail and Postfix
 * `helo (rdns [ip])` and `helo ([ip])` forms, not Exim's), so an empty rdns there means the
 * host has none: SpamAssassin's `no_reverse_dns`. Kept beside the relay, not in it, so the
 * public {@link SaRelay} shape does not change.
 */
const lookedUpDns = new WeakSet<SaRelay>();

/** True when the relay's MTA looked up its reverse DNS and found none. */
export function hasNoReverseDns(relay: SaRelay): boolean {
  return relay.rdns === '' && lookedUpDns.has(relay);
}

// qmail's own line (Received.pm): its rdns is "unknown" when tcpserver passed none, which
// says nothing about the host.
const QMAIL = new RegExp(
  `^\\S+(?: \\((?:HELO|EHLO) \\S*\\))? \\((?:\\S+@)?\\[?(?:${IP})\\]?\\)(?: \\(envelope-sender <\\S+>\\))? by \\S+(?: \\(.+\\))* with (?:.* )?(?:SMTP|QMQP)(?! id )`,
);

/** Whether the MTA that wrote the line (parsed with FORMATS[format]) looked up the rdns itself. */
function lookedUp(format: number, from: string, line: string, exim: boolean): boolean {
  if (/ \(Lotus Domino | SMTPSVC/.test(line)) return false;
  // sendmail and Postfix: `helo (rdns [ip])`, `helo ([ip])` (Exim's writes the rdns there).
  if (format === 2) return !/^\S+ \(softdnserr /.test(from);
  if (format === 3) return !exim;
  // qmail-like `rdns (HELO helo) (ip)` and `rdns (ip)`: only a strict qmail line with "unknown" did not.
  if (format === 4 || format === 5) return !(QMAIL.test(line) && /^unknown /i.test(from));
  return false;
}

/** What one Received value says: a relay, a fetcher hand-over, or nothing we can use. */
export type ReceivedLine =
  | { readonly kind: 'relay'; readonly relay: SaRelay }
  | { readonly kind: 'fetcher' }
  | { readonly kind: 'skip' };

/** Parses one Received value (folds already joined). */
export function parseReceived(value: string): ReceivedLine {
  const v = value.replace(/\s+/g, ' ').trim();
  if (/with (?:POP3|IMAP)/.test(v)) return { kind: 'fetcher' };
  const m = /^from (.*?) by (\S+)(.*)$/i.exec(v);
  if (!m) return { kind: 'skip' };
  const from = m[1] as string;
  const by = (m[2] as string).replace(/;$/, '');
  const rest = m[3] as string;
  const id = /\bid <?([^\s>;]+)>?/.exec(rest)?.[1] ?? '';
  const envfrom = /envelope-(?:from|sender) <?([^\s>;)]*)>?/i.exec(v)?.[1];
  const auth = /\(authenticated\b/.test(from)
    ? 'Sendmail'
    : /with (?:ESMTPSA|ESMTPA|asmtp)\b/i.test(rest)
      ? 'ESMTPA'
      : '';
  const exim = /\(Exim /.test(rest);
  let format = -1;
  const parsed = FORMATS.reduce<FromPart | undefined>((found, [re, read], i) => {
    if (found) return found;
    const r = re.exec(from);
    if (!r) return undefined;
    format = i;
    return read(r, exim, from);
  }, undefined);
  if (!parsed) return { kind: 'skip' };
  const { ip, helo, rdns, ident } = parsed;
  const relay: SaRelay = { ip: ip.replace(/^IPv6:/i, ''), rdns, helo, by, ident, envfrom, id, auth };
  if (lookedUp(format, from, v.slice(5), exim)) lookedUpDns.add(relay);
  return { kind: 'relay', relay };
}

/** The relays of a message split by inferred trust. */
export interface SaRelays {
  readonly trusted: readonly SaRelay[];
  readonly untrusted: readonly SaRelay[];
}

/** A relay as SpamAssassin writes it in `X-Spam-Relays-*`. */
export function relayString(r: SaRelay, internal: boolean): string {
  return `[ ip=${r.ip} rdns=${r.rdns} helo=${r.helo} by=${r.by} ident=${r.ident} envfrom=${r.envfrom ?? ''} intl=${internal ? 1 : 0} id=${r.id} auth=${r.auth} msa=0 ]`;
}

/** Reads the Received values (topmost first, folds joined). */
export function readRelays(received: readonly string[]): SaRelays {
  let trusted: SaRelay[] = [];
  const untrusted: SaRelay[] = [];
  let inTrusted = true;
  for (const r of received) {
    const line = parseReceived(r);
    if (line.kind === 'fetcher') {
      if (inTrusted) trusted = [];
      continue;
    }
    if (line.kind !== 'relay') continue;
    const relay = line.relay;
    if (inTrusted && !isPrivateIp(relay.ip) && !relay.auth) inTrusted = false;
    if (inTrusted) trusted.push(relay);
    else untrusted.push(relay);
  }
  return { trusted, untrusted };
}

/** Unix seconds of a date written as in Received lines and Date headers; undefined if unreadable. */
export function parseMailDate(text: string): number | undefined {
  const m =
    /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?/.exec(
      text,
    );
  if (!m) return undefined;
  const months = 'janfebmaraprmayjunjulaugsepoctnovdec';
  const mon = months.indexOf((m[2] as string).toLowerCase());
  if (mon === -1 || mon % 3 !== 0) return undefined;
  let year = Number(m[3]);
  if (year < 50) year += 2000;
  else if (year < 100) year += 1900;
  const zones: Record<string, number> = {
    ut: 0,
    utc: 0,
    gmt: 0,
    z: 0,
    est: -5,
    edt: -4,
    cst: -6,
    cdt: -5,
    mst: -7,
    mdt: -6,
    pst: -8,
    pdt: -7,
  };
  let offset = 0;
  const z = m[7];
  if (z && /^[+-]\d{4}$/.test(z)) {
    const sign = z[0] === '-' ? -1 : 1;
    offset = sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  } else if (z) offset = (zones[z.toLowerCase()] ?? 0) * 60;
  const t = Date.UTC(year, mon / 3, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (!Number.isFinite(t)) return undefined;
  return t / 1000 - offset * 60;
}
