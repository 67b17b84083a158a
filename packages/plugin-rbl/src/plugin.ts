import {
  type ErrorPolicy,
  type HealthResult,
  invalidOption,
  type MessageContext,
  type Plugin,
  type RcptContext,
  type SetupContext,
  type StageContext,
  type StageErrorKind,
} from '@mef/core';
import { parse as parseDomain } from 'tldts';
import { CORE_RANGE } from './core-range.js';
import { type DnsClientOptions, DnsListClient } from './dns-client.js';
import type { RblError } from './errors.js';
import { findLinkHosts, linkTargets } from './links.js';
import { compileList, type RblCheck, RblChecker, type RblListConfig, type RblOutcome } from './lists.js';
import { addressDomain, normalizeDomain, normalizeIp } from './query.js';
import { networkList, receivedHops } from './received.js';

/** One listing found in a transaction, for later stages (`ctx.state.rbl`). */
export interface RblListing {
  readonly zone: string;
  readonly check: RblCheck;
  readonly target: string;
  readonly symbols: readonly string[];
  readonly allowlist: boolean;
  readonly txt?: string;
}

/** What this plugin leaves in `ctx.state.rbl` for later stages. */
export interface RblState {
  /** Every listing found so far in this connection and transaction. */
  readonly listings: RblListing[];
  /** True once an allowlist listed the client, HELO or sender: this plugin's rejects are off. */
  allowlisted: boolean;
  /** Symbols recorded so far (each symbol counts once per transaction). */
  readonly recorded: Set<string>;
  /** A reject deferred to RCPT. */
  pendingRcpt?: PendingReject;
}

export interface PendingReject {
  readonly reply: { code: number; enhanced: string; text: string };
  readonly reason: string;
}

declare module '@mef/core' {
  interface TransactionState {
    /** What `@mef/plugin-rbl` found so far in this connection and transaction. */
    rbl?: RblState;
  }
}

/** Options of {@link rbl}. */
export interface RblOptions extends Omit<DnsClientOptions, 'servers'> {
  /**
   * The DNS servers to ask (`127.0.0.1:53`, `[::1]:5353`). Required: there is no implicit
   * fallback to the system resolver, whose answers a blocklist may refuse or poison.
   */
  servers: readonly string[];
  /** The lists, such as `[spamhausZen(), spamhausDbl()]`. */
  lists: readonly RblListConfig[];
  /** Plugin name (default `rbl`). */
  name?: string;
  /** What a lookup failure turns into (default `accept`: a missing opinion does not delay mail). */
  onError?: ErrorPolicy;
  /** Stage timeout in ms (default: twice the DNS timeout plus 1 s: an A and a TXT lookup). */
  stageTimeout?: number;
  /** Stage priority (default 50: before content scanners, so an allowlist can skip them). */
  priority?: number;
  /** Seconds between health probes (default 300; 0 probes only at start). */
  probeInterval?: number;
  /** Probe every list in `setup` (default true). */
  probeAtStart?: boolean;
  /** Seconds a list stays out of service after an error answer (default 300). */
  outOfService?: number;
  /** Link extraction for `uri` and `uri-ip` lists. */
  links?: {
    /** `parts`: the text/* parts that are not attachments (default); `text`: the engine's extracted text. */
    source?: 'parts' | 'text';
    /** Bytes read of each text part (default 1 MiB). */
    maxBytes?: number;
    /** Most link targets (domains and IPs) looked up per message (default 50). */
    maxLookups?: number;
  };
  /** `Received` hops for `received` lists. */
  received?: {
    /** Most hops looked up (default 3). */
    maxHops?: number;
    /** Your own relays' networks (CIDRs): their hops are trusted, not looked up. */
    trusted?: readonly string[];
  };
  /** A shared client (several plugins, one cache); the plugin then does not create its own. */
  client?: DnsListClient;
}

const LABEL: Record<RblCheck, string> = {
  client: 'Client host',
  received: 'Relay host',
  helo: 'HELO name',
  mailfrom: 'Sender domain',
  from: 'From domain',
  uri: 'Link domain',
  'uri-ip': 'Link host',
};

const ERROR_KIND: Record<string, StageErrorKind> = {
  MEF_RBL_TIMEOUT: 'timeout',
  MEF_RBL_UNAVAILABLE: 'unavailable',
  MEF_RBL_LIST_ERROR: 'protocol',
};

type Phase = 'connect' | 'helo' | 'mailFrom' | 'message';

function cleanTxt(txt: string): string {
  return txt
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** The address of a `From` header value. */
function fromAddress(value: string): string | undefined {
  const angle = /<([^<>]*@[^<>]*)>\s*$/.exec(value) ?? /<([^<>]*@[^<>]*)>/.exec(value);
  if (angle?.[1]) return angle[1];
  return /[^\s<>,;:"()]+@[^\s<>,;:"()]+/.exec(value)?.[0];
}

/** The full name and its registrable domain (when different): what RHSBLs are asked. */
function domainTargets(name: string | undefined): string[] {
  const d = name === undefined ? undefined : normalizeDomain(name);
  // A single label (`localhost`, a bare host name) is no domain a list could know.
  if (!d?.includes('.')) return [];
  const reg = parseDomain(d).domain;
  return reg && reg !== d ? [d, reg] : [d];
}

function decodeText(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The DNS list plugin: DNSBL for the client IP and `Received` hops, RHSBL for the HELO
 * name and sender domains, URIBL for the links in the body, DNSWL allowlists.
 */
export function rbl(options: RblOptions): Plugin {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an options object');
  if (!Array.isArray(options.lists) || options.lists.length === 0) {
    throw invalidOption('lists', options.lists, 'a non-empty list of DNS lists such as [spamhausZen()]');
  }
  const name = options.name ?? 'rbl';
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw invalidOption('name', options.name, 'a kebab-case plugin name');
  }
  const onError = options.onError ?? 'accept';
  if (!['accept', 'tempfail', 'reject'].includes(onError)) {
    throw invalidOption('onError', options.onError, "'accept', 'tempfail' or 'reject'");
  }
  const nonNegative = (opt: string, v: unknown, integer = false) => {
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || (integer && !Number.isInteger(v)))) {
      throw invalidOption(opt, v, integer ? 'a non-negative integer' : 'a non-negative number');
    }
  };
  nonNegative('probeInterval', options.probeInterval);
  nonNegative('outOfService', options.outOfService);
  nonNegative('links.maxBytes', options.links?.maxBytes, true);
  nonNegative('links.maxLookups', options.links?.maxLookups, true);
  nonNegative('received.maxHops', options.received?.maxHops, true);
  if (
    options.stageTimeout !== undefined &&
    !(typeof options.stageTimeout === 'number' && options.stageTimeout > 0)
  ) {
    throw invalidOption('stageTimeout', options.stageTimeout, 'a positive number of milliseconds');
  }
  const source = options.links?.source ?? 'parts';
  if (source !== 'parts' && source !== 'text')
    throw invalidOption('links.source', source, "'parts' or 'text'");
  let trusted: ReturnType<typeof networkList> | undefined;
  try {
    trusted = options.received?.trusted ? networkList(options.received.trusted) : undefined;
  } catch {
    throw invalidOption(
      'received.trusted',
      options.received?.trusted,
      'a list of CIDRs such as "192.0.2.0/24"',
    );
  }

  const lists = options.lists.map((l, i) => compileList(l, i));
  const ownClient = options.client === undefined;
  // The client throws a TypeError when no servers are given: never the system resolver.
  const client =
    options.client ??
    new DnsListClient({
      servers: options.servers,
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.tries !== undefined ? { tries: options.tries } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      ...(options.negativeTtl !== undefined ? { negativeTtl: options.negativeTtl } : {}),
      ...(options.minTtl !== undefined ? { minTtl: options.minTtl } : {}),
      ...(options.maxTtl !== undefined ? { maxTtl: options.maxTtl } : {}),
      ...(options.txtTtl !== undefined ? { txtTtl: options.txtTtl } : {}),
    });
  const checker = new RblChecker(client, lists, {
    ...(options.outOfService !== undefined ? { outOfService: options.outOfService } : {}),
  });
  const probeInterval = (options.probeInterval ?? 300) * 1000;
  const maxBytes = options.links?.maxBytes ?? 1024 * 1024;
  const maxLookups = options.links?.maxLookups ?? 50;
  const maxHops = options.received?.maxHops ?? 3;
  let timer: NodeJS.Timeout | undefined;
  let log: SetupContext['log'] | undefined;

  const has = (check: RblCheck) => checker.listsFor(check).length > 0;

  /** The transaction's state; MAIL FROM forks the connection's so that transactions stay apart. */
  const stateOf = (ctx: StageContext, fork = false): RblState => {
    const cur = ctx.state.rbl;
    if (cur && !fork) return cur;
    const next: RblState = {
      listings: [...(cur?.listings ?? [])],
      allowlisted: cur?.allowlisted ?? false,
      recorded: new Set(cur?.recorded ?? []),
      ...(cur?.pendingRcpt ? { pendingRcpt: cur.pendingRcpt } : {}),
    };
    ctx.state.rbl = next;
    return next;
  };

  const probeAll = async () => {
    const health = await checker.probeAll();
    for (const h of health) {
      if (h.lastProbe && !h.lastProbe.ok) {
        log?.warn(
          { code: 'MEF_RBL_PROBE_FAILED', zone: h.zone, detail: h.lastProbe.detail },
          'rbl: health probe failed, list out of service',
        );
      } else if (!h.inService) {
        log?.warn({ code: 'MEF_RBL_LIST_ERROR', zone: h.zone, reason: h.reason }, 'rbl: list out of service');
      }
    }
  };

  /** Records the outcomes of one phase and applies rejects and skips. */
  const apply = (ctx: StageContext, phase: Phase, outcomes: readonly RblOutcome[]) => {
    const state = stateOf(ctx);
    const symbols = new Map<string, { score: number; options: string[]; description?: string }>();
    const errors: string[] = [];
    let firstError: RblError | undefined;
    let reject: { outcome: RblOutcome } | undefined;
    for (const o of outcomes) {
      if (o.status === 'error' || o.status === 'out-of-service') {
        const err = o.error;
        errors.push(`${o.list.zone}:${err?.code ?? 'MEF_RBL_UNAVAILABLE'}`);
        if (o.status === 'error' && err && !firstError) firstError = err;
        continue;
      }
      if (o.status !== 'listed') continue;
      const names: string[] = [];
      for (const hit of o.hits) {
        const symbol = o.check === 'received' ? `RECEIVED_${hit.symbol.replace(/^RBL_/, '')}` : hit.symbol;
        names.push(symbol);
        const opts = [`${o.check}:${o.target}`, hit.answer];
        const entry = symbols.get(symbol);
        if (entry) entry.options.push(...opts);
        else
          symbols.set(symbol, {
            score: hit.score,
            options: opts,
            ...(hit.description !== undefined ? { description: hit.description } : {}),
          });
        if (hit.rejects && !reject) reject = { outcome: o };
      }
      if (o.txt !== undefined) symbols.get(names[0] ?? '')?.options.push(cleanTxt(o.txt));
      state.listings.push({
        zone: o.list.zone,
        check: o.check,
        target: o.target,
        symbols: names,
        allowlist: o.list.allowlist,
        ...(o.txt !== undefined ? { txt: cleanTxt(o.txt) } : {}),
      });
      if (o.list.allowlist) {
        state.allowlisted = true;
        for (const stage of o.list.skip) ctx.findings.skip(stage, `${o.target} is listed by ${o.list.zone}`);
      }
    }
    for (const [symbol, s] of symbols) {
      if (state.recorded.has(symbol)) continue;
      state.recorded.add(symbol);
      ctx.findings.symbol(symbol, s.score, {
        group: 'rbl',
        options: s.options,
        ...(s.description !== undefined ? { description: s.description } : {}),
      });
    }
    if (errors.length) {
      ctx.findings.symbol('RBL_ERROR', 0, { group: 'rbl', options: errors });
      if (firstError) {
        ctx.findings.error(ERROR_KIND[firstError.code] ?? 'unavailable', firstError.code, firstError.message);
      }
    }
    if (!reject || state.allowlisted) return;
    const o = reject.outcome;
    const list = o.list;
    const txt = list.txt && o.txt !== undefined ? `; ${cleanTxt(o.txt)}` : '';
    const target = o.check === 'client' || o.check === 'received' ? `[${o.target}]` : o.target;
    const text = (list.reply.text ?? `${LABEL[o.check]} {target} blocked using {zone}{txt}`)
      .replaceAll('{target}', target)
      .replaceAll('{zone}', list.zone)
      .replaceAll('{txt}', txt);
    const deferred = list.reject === 'rcpt' && phase !== 'message';
    const early = !deferred && (phase === 'connect' || phase === 'helo');
    const reply = {
      code: list.reply.code ?? (early ? 554 : 550),
      enhanced: list.reply.enhanced ?? '5.7.1',
      text,
    };
    const reason = `${o.target} listed by ${list.zone}`;
    if (deferred) {
      if (!state.pendingRcpt) state.pendingRcpt = { reply, reason };
      return;
    }
    ctx.findings.force('reject', { reply, reason });
  };

  const runChecks = (jobs: [RblCheck, string][]): Promise<RblOutcome[]> =>
    Promise.all(jobs.map(([check, target]) => checker.check(check, target))).then((r) => r.flat());

  const plugin: Plugin = {
    name,
    core: CORE_RANGE,
    priority: options.priority ?? 50,
    timeout: options.stageTimeout ?? client.timeout * 2 + 1000,
    onError,

    async setup(ctx: SetupContext) {
      log = ctx.log;
      if (options.probeAtStart !== false) await probeAll();
      if (probeInterval > 0) {
        timer = setInterval(() => {
          void probeAll().catch(() => {});
        }, probeInterval);
        timer.unref();
      }
    },

    teardown() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (ownClient) client.cancel();
    },

    health(): HealthResult {
      const down = checker.health().filter((h) => !h.inService);
      if (!down.length) return { ok: true, detail: `${lists.length} list(s) in service` };
      return { ok: false, detail: down.map((h) => `${h.zone}: ${h.reason ?? 'out of service'}`).join('; ') };
    },

    async connect(ctx: StageContext) {
      stateOf(ctx, true);
      const ip = normalizeIp(ctx.tx.clientAddress);
      if (!ip || !has('client')) return;
      apply(ctx, 'connect', await checker.check('client', ip));
    },

    async helo(ctx: StageContext) {
      if (!has('helo')) return;
      const targets = domainTargets(ctx.tx.helo);
      if (!targets.length) return;
      apply(ctx, 'helo', await runChecks(targets.map((t) => ['helo', t])));
    },

    async mailFrom(ctx: StageContext) {
      // A new transaction: its listings, symbols and deferred rejects are its own.
      stateOf(ctx, true);
      if (!has('mailfrom')) return;
      const targets = domainTargets(addressDomain(ctx.tx.mailFrom?.address));
      if (!targets.length) return;
      apply(ctx, 'mailFrom', await runChecks(targets.map((t) => ['mailfrom', t])));
    },

    rcptTo(ctx: RcptContext) {
      const state = ctx.state.rbl;
      if (state?.pendingRcpt && !state.allowlisted) ctx.findings.force('reject', state.pendingRcpt);
    },

    async message(ctx: MessageContext) {
      const wantUri = has('uri') || has('uri-ip');
      const wantHeaders = has('from') || has('received');
      // Views are asked for before the first await.
      const headers = wantHeaders ? ctx.message.headers() : undefined;
      const text = wantUri && source === 'text' ? ctx.message.text() : undefined;
      const jobs: Promise<RblOutcome[]>[] = [];
      const seenHosts = new Set<string>();
      const seenTargets = new Set<string>();
      let dropped = 0;
      // Each part's links are looked up as soon as the part is read, in parallel with the rest.
      const lookupHosts = (hosts: readonly string[]) => {
        const fresh = hosts.filter((h) => !seenHosts.has(h));
        for (const h of fresh) seenHosts.add(h);
        const t = linkTargets(fresh);
        for (const [check, values] of [
          ['uri', t.domains],
          ['uri-ip', t.ips],
        ] as const) {
          for (const v of values) {
            if (seenTargets.has(v)) continue;
            if (seenTargets.size >= maxLookups) {
              dropped++;
              continue;
            }
            seenTargets.add(v);
            if (has(check)) jobs.push(checker.check(check, v));
          }
        }
      };
      if (wantUri && source === 'parts') {
        ctx.message.parts({ contentType: 'text/*', maxBytes }, (part) => {
          // Links in the message's text, not in attached text files (logs, CSV exports).
          if (part.disposition === 'attachment') {
            part.skip();
            return;
          }
          return (async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of part.content) chunks.push(chunk as Buffer);
            let body = decodeText(Buffer.concat(chunks), part.charset);
            // A part cut by maxBytes may end inside a link: drop the cut word, not look up half a host.
            if (part.truncated) body = body.slice(0, Math.max(0, body.search(/\S*$/)));
            lookupHosts(findLinkHosts(body, { html: /html/i.test(part.contentType) }));
          })();
        });
      }
      if (headers) {
        const h = await headers;
        const envelope: [RblCheck, string][] = [];
        if (has('from')) {
          const addr = fromAddress(h.get('from') ?? '');
          for (const t of domainTargets(addressDomain(addr))) envelope.push(['from', t]);
        }
        if (has('received')) {
          const hops = receivedHops(h.getAll('received'), {
            max: maxHops,
            exclude: [ctx.tx.clientAddress],
            ...(trusted ? { trusted } : {}),
          });
          for (const ip of hops) envelope.push(['received', ip]);
        }
        jobs.push(runChecks(envelope));
      }
      if (text) {
        const t = await text;
        lookupHosts(findLinkHosts(t.text));
        lookupHosts(findLinkHosts(t.html, { html: true }));
      } else if (wantUri) {
        // Resolves once the part handlers above have queued their lookups.
        await ctx.message.ended();
      }
      const outcomes = (await Promise.all(jobs)).flat();
      if (dropped > 0) {
        ctx.findings.symbol('RBL_LINKS_LIMIT', 0, {
          group: 'rbl',
          options: [`${dropped} link target(s) over the limit of ${maxLookups} not looked up`],
        });
      }
      apply(ctx, 'message', outcomes);
    },
  };
  return plugin;
}
