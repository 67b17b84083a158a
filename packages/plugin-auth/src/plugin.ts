import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import {
  capSource,
  checkBoolean,
  checkEnum,
  checkErrorPolicy,
  checkNumber,
  checkPluginName,
  definePlugin,
  type ErrorPolicy,
  invalidOption,
  type MessageContext,
  type Plugin,
} from '@mef/core';
import type * as Mailauth from 'mailauth';
import type { ARCResult, DKIMVerifyResult, DMARCResult, SPFResult } from 'mailauth';
import { CORE_RANGE } from './core-range.js';
import { AuthError } from './errors.js';
import { type AuthResolver, type AuthResolverOptions, createResolver } from './resolver.js';
import { type AuthSymbol, arcSymbol, authSymbols, dkimFindings, dmarcSymbol, spfSymbol } from './symbols.js';

/** What a DMARC failure under a `reject` or `quarantine` policy turns into. */
export type DmarcAction = 'reject' | 'quarantine' | 'score';

/** Options of {@link auth}. */
export interface AuthOptions extends Omit<AuthResolverOptions, 'servers'> {
  /**
   * The DNS servers to ask (`127.0.0.1:53`, `[::1]:5353`). Required unless `resolver` is
   * given: the system resolver is never used.
   */
  servers?: readonly string[];
  /** A resolver shared with other stages, instead of one built from `servers`. */
  resolver?: AuthResolver;
  /** Record SPF symbols (default true). SPF is also looked up when DMARC is on. */
  spf?: boolean;
  /** Record DKIM symbols (default true). Signatures are also verified when DMARC or ARC is on. */
  dkim?: boolean;
  /** Evaluate DMARC (default true). */
  dmarc?: boolean;
  /** Validate the ARC chain (default true). */
  arc?: boolean;
  /** A DMARC failure of a domain with `p=reject`: `reject` (550 5.7.1), `quarantine`, or `score` only (default). */
  dmarcReject?: DmarcAction;
  /** A DMARC failure of a domain with `p=quarantine`: `quarantine`, or `score` only (default). */
  dmarcQuarantine?: Exclude<DmarcAction, 'reject'>;
  /** The authserv-id of the `Authentication-Results` field (default: the host name). */
  hostname?: string;
  /**
   * Prepend `Authentication-Results` and `Received-SPF`, and remove the `Authentication-Results`
   * fields that arrived with the message claiming our `hostname` (default true).
   */
  headers?: boolean;
  /** Largest message verified, in bytes; a larger one gets SPF only and `AUTH_SKIPPED_SIZE` (default 32 MiB). */
  maxSize?: number;
  /** Shortest DKIM and ARC key accepted, in bits (default 1024). */
  minBitLength?: number;
  /** Scores by symbol, over the defaults ({@link authSymbols}). */
  scores?: Partial<Record<AuthSymbol, number>>;
  /** Plugin name (default `auth`). */
  name?: string;
  /** What a DNS outage or a mailauth failure turns into (default `accept`: the symbols say DNSFAIL). */
  onError?: ErrorPolicy;
  /** Stage timeout in ms (default: eight `queryTimeout`s plus 2 s). */
  stageTimeout?: number;
  /** Stage priority (default 60: after DNS lists, before content scanners). */
  priority?: number;
}

let mailauthLoad: Promise<typeof Mailauth> | undefined;

/**
 * mailauth, loaded on first use: it takes a good part of a second to load (undici, joi), which
 * every `mef` command would pay at start if it were imported at the top.
 */
function loadMailauth(): Promise<typeof Mailauth> {
  mailauthLoad ??= import('mailauth').then(
    (mod) => (mod as unknown as { default?: typeof Mailauth }).default ?? mod,
  );
  return mailauthLoad;
}

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA']);

/** A message's view of the resolver: it counts answers and failures, and stops on abort. */
function tracked(resolver: AuthResolver, signal: AbortSignal) {
  const stats = { answers: 0, failures: 0, timeouts: 0, last: '' };
  const fn = async (name: string, rrtype: string) => {
    try {
      const answer = await resolver.resolve(name, rrtype, signal);
      stats.answers++;
      return answer as string[][];
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      if (NO_ANSWER.has(code)) stats.answers++;
      else {
        stats.failures++;
        if (code === 'ETIMEOUT') stats.timeouts++;
        stats.last = `${rrtype} ${name}: ${code || (err as Error).message}`;
      }
      throw err;
    }
  };
  return { fn, stats };
}

/** `Name: value` of a header line mailauth formatted. */
function splitField(line: string): [string, string] | undefined {
  const i = line.indexOf(':');
  if (i <= 0) return undefined;
  return [line.slice(0, i).trim(), line.slice(i + 1).replace(/^[ \t]+/, '')];
}

/**
 * SPF (client IP, HELO and MAIL FROM), DKIM, DMARC with its policy, and ARC, as evidence:
 * symbols named and scored like rspamd's. Lookups go only to the DNS servers named.
 */
export function auth(options: AuthOptions): Plugin {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an options object');
  const name = checkPluginName(options.name, 'auth');
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  const wantSpf = checkBoolean('spf', options.spf) ?? true;
  const wantDkim = checkBoolean('dkim', options.dkim) ?? true;
  const wantDmarc = checkBoolean('dmarc', options.dmarc) ?? true;
  const wantArc = checkBoolean('arc', options.arc) ?? true;
  const addHeaders = checkBoolean('headers', options.headers) ?? true;
  const dmarcReject =
    checkEnum('dmarcReject', options.dmarcReject, ['reject', 'quarantine', 'score'] as const) ?? 'score';
  const dmarcQuarantine =
    checkEnum('dmarcQuarantine', options.dmarcQuarantine, ['quarantine', 'score'] as const) ?? 'score';
  const maxSize = checkNumber('maxSize', options.maxSize, { min: 1 }) ?? 32 * 1024 * 1024;
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const minBitLength = checkNumber('minBitLength', options.minBitLength, { min: 1, integer: true }) ?? 1024;
  const scores: Record<string, number> = { ...authSymbols };
  for (const [k, v] of Object.entries(options.scores ?? {})) {
    if (!(k in authSymbols)) throw invalidOption(`scores.${k}`, k, 'a symbol of @mef/plugin-auth');
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidOption(`scores.${k}`, v, 'a number');
    scores[k] = v;
  }
  const hostname = options.hostname ?? osHostname();
  if (typeof hostname !== 'string' || !/^[^\s;()"]+$/.test(hostname)) {
    throw invalidOption('hostname', options.hostname, 'a host name without spaces');
  }
  let resolver: AuthResolver;
  if (options.resolver !== undefined) {
    if (typeof options.resolver?.resolve !== 'function') {
      throw invalidOption('resolver', options.resolver, 'a resolver from createResolver()');
    }
    resolver = options.resolver;
  } else {
    resolver = createResolver({
      servers: options.servers as readonly string[],
      ...(options.queryTimeout !== undefined ? { queryTimeout: options.queryTimeout } : {}),
      ...(options.tries !== undefined ? { tries: options.tries } : {}),
    });
  }
  const needMessage = wantDkim || wantDmarc || wantArc;
  const group = 'auth';

  const check = async (ctx: MessageContext): Promise<void> => {
    const raw = needMessage ? ctx.message.raw() : undefined;
    // Views are asked for before the first await: the header block, to drop forged results.
    const headersP = addHeaders ? ctx.message.headers() : undefined;
    headersP?.catch(() => undefined);
    const { dkimVerify, spf: verifySpf, arc: verifyArc, dmarc: verifyDmarc } = await loadMailauth();
    const { fn: lookup, stats } = tracked(resolver, ctx.signal);
    const tx = ctx.tx;
    const sender = tx.mailFrom?.address ?? '';
    const ip = tx.clientAddress;
    let helo = tx.helo ?? ip;
    if (isIP(helo)) helo = `[${helo}]`;

    let dkim: DKIMVerifyResult | undefined;
    if (raw) {
      const upload = capSource(raw, maxSize, (m) => new Error(`message exceeds maxSize ${m}`));
      const cap = upload.stream;
      try {
        dkim = await dkimVerify(cap, { resolver: lookup, sender, minBitLength });
      } catch (err) {
        await upload.settle();
        if (cap.over) {
          ctx.findings.symbol('AUTH_SKIPPED_SIZE', scores.AUTH_SKIPPED_SIZE, {
            group,
            options: [`${cap.size}+ > ${maxSize}`],
          });
        } else if (ctx.signal.aborted) {
          return;
        } else {
          const e = new AuthError('MEF_AUTH_FAILED', `DKIM verification failed: ${(err as Error).message}`, {
            cause: err,
          });
          ctx.findings.error('exception', e.code, e.message);
          return;
        }
      }
      await upload.settle();
    }

    const record = (symbol: AuthSymbol, opts: readonly string[]) => {
      ctx.findings.symbol(symbol, scores[symbol] ?? 0, { group, options: opts.filter(Boolean) });
    };

    let spf: SPFResult | undefined;
    if (wantSpf || wantDmarc) {
      spf = await verifySpf({ sender, ip, helo, mta: hostname, resolver: lookup });
      if (wantSpf) record(spfSymbol(spf.status), [spf.domain, spf.status.result, ip]);
    }
    if (dkim && wantDkim) {
      for (const f of dkimFindings(dkim.results)) record(f.symbol, f.options);
    }
    let arc: ARCResult | undefined;
    if (dkim && wantArc && dkim.arc) {
      arc = await verifyArc(dkim.arc as Parameters<typeof verifyArc>[0], { resolver: lookup, minBitLength });
      record(arcSymbol(arc.status), [arc.status.result, ...(arc.i ? [`i=${arc.i}`] : [])]);
    }
    let dmarc: DMARCResult | false = false;
    if (dkim && wantDmarc && dkim.headerFrom?.length) {
      dmarc = await verifyDmarc({
        headerFrom: dkim.headerFrom,
        spfDomains: spf && spf.status.result === 'pass' && spf.domain ? [spf.domain] : [],
        dkimDomains: dkim.results
          .filter((r) => r.status.result === 'pass' && r.signingDomain)
          .map((r) => ({
            domain: r.signingDomain as string,
            ...(r.id ? { id: r.id } : {}),
            // mailauth passes the aligned domain through as given
            aligned: r.status.aligned as unknown as boolean,
          })),
        ...(arc ? { arcResult: arc } : {}),
        resolver: lookup,
      });
      const symbol = dmarcSymbol(dmarc);
      record(symbol, dmarc ? [dmarc.domain, dmarc.status.result, dmarc.policy] : [dkim.headerFrom.join(',')]);
      if (dmarc && symbol === 'DMARC_POLICY_REJECT' && dmarcReject !== 'score') {
        const reason = `DMARC ${dmarc.status.result} for ${dmarc.domain} (p=${dmarc.policy})`;
        if (dmarcReject === 'reject') {
          ctx.findings.reject(
            { code: 550, enhanced: '5.7.1', text: `Rejected by the DMARC policy of ${dmarc.domain}` },
            { reason },
          );
        } else ctx.findings.force('quarantine', { reason });
      } else if (dmarc && symbol === 'DMARC_POLICY_QUARANTINE' && dmarcQuarantine === 'quarantine') {
        ctx.findings.force('quarantine', {
          reason: `DMARC ${dmarc.status.result} for ${dmarc.domain} (p=${dmarc.policy})`,
        });
      }
    }

    if (addHeaders) {
      // Results that claim to come from us but arrived with the message are forged (RFC 8601
      // section 5): remove them, last first so that the indexes stay right.
      const block = await headersP?.catch(() => undefined);
      const arFields = block?.getAll('Authentication-Results') ?? [];
      for (let i = arFields.length; i >= 1; i--) {
        const id = /^\s*([^\s;]+)/.exec(arFields[i - 1] ?? '')?.[1];
        if (id?.toLowerCase() === hostname.toLowerCase())
          ctx.findings.removeHeader('Authentication-Results', i);
      }
      const info: string[] = [];
      if (dkim && (wantDkim || wantDmarc)) for (const r of dkim.results) if (r.info) info.push(r.info);
      if (spf) info.push(spf.info);
      if (arc?.info) info.push(arc.info);
      if (dmarc && dmarc.info !== undefined) info.push(dmarc.info);
      if (info.length)
        ctx.findings.prependHeader('Authentication-Results', `${hostname};\r\n ${info.join(';\r\n ')}`);
      const field = spf ? splitField(spf.header) : undefined;
      if (field) ctx.findings.prependHeader(field[0], field[1]);
    }

    if (stats.failures > 0 && stats.answers === 0) {
      const code = stats.timeouts > 0 ? 'MEF_AUTH_DNS_TIMEOUT' : 'MEF_AUTH_DNS_UNAVAILABLE';
      ctx.findings.error(
        stats.timeouts > 0 ? 'timeout' : 'unavailable',
        code,
        `no DNS lookup of the message was answered by ${resolver.servers.join(', ')} (${stats.last})`,
      );
    }
  };

  return definePlugin({
    name,
    core: CORE_RANGE,
    priority: options.priority ?? 60,
    stageTimeout: stageTimeout ?? resolver.queryTimeout * 8 + 2000,
    onError,
    async setup() {
      await loadMailauth();
    },
    message: check,
  });
}
