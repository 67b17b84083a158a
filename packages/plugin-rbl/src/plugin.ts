import {
  addressDomain,
  decodeText,
  type HealthResult,
  type MessageContext,
  normalizeIp,
  type Plugin,
  type RcptContext,
  type SetupContext,
  type StageContext,
} from '@mef/core';
import type { RblOutcome } from './checker.js';
import { CORE_RANGE } from './core-range.js';
import { findLinkHosts, linkTargets } from './links.js';
import type { RblCheck } from './list-config.js';
import { type RblOptions, resolveOptions } from './options.js';
import { domainTargets, fromAddress } from './query.js';
import { receivedHops } from './received.js';
import { recordOutcomes } from './record.js';
import { stateOf } from './state.js';

/**
 * The DNS list plugin: DNSBL for the client IP and `Received` hops, RHSBL for the HELO
 * name and sender domains, URIBL for the links in the body, DNSWL allowlists.
 */
export function rbl(options: RblOptions): Plugin {
  const settings = resolveOptions(options);
  const { name, onError, source, trusted, client, ownClient, lists, checker } = settings;
  const { probeInterval, maxBytes, maxLookups, maxHops } = settings;
  let timer: NodeJS.Timeout | undefined;
  let log: SetupContext['log'] | undefined;

  const has = (check: RblCheck) => checker.listsFor(check).length > 0;

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

  const runChecks = (jobs: [RblCheck, string][]): Promise<RblOutcome[]> =>
    Promise.all(jobs.map(([check, target]) => checker.check(check, target))).then((r) => r.flat());

  const plugin: Plugin = {
    name,
    core: CORE_RANGE,
    priority: options.priority ?? 50,
    stageTimeout: settings.stageTimeout ?? client.queryTimeout * 2 + 1000,
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
      recordOutcomes(ctx, 'connect', await checker.check('client', ip));
    },

    async helo(ctx: StageContext) {
      if (!has('helo')) return;
      const targets = domainTargets(ctx.tx.helo);
      if (!targets.length) return;
      recordOutcomes(ctx, 'helo', await runChecks(targets.map((t) => ['helo', t])));
    },

    async mailFrom(ctx: StageContext) {
      // A new transaction: its listings, symbols and deferred rejects are its own.
      stateOf(ctx, true);
      if (!has('mailfrom')) return;
      const targets = domainTargets(addressDomain(ctx.tx.mailFrom?.address));
      if (!targets.length) return;
      recordOutcomes(ctx, 'mailFrom', await runChecks(targets.map((t) => ['mailfrom', t])));
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
      recordOutcomes(ctx, 'message', outcomes);
    },
  };
  return plugin;
}
