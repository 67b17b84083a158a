import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkMx, type MxCheck } from '../mx-check.js';
import {
  type AdminConfig,
  type DomainSettings,
  domainNameSchema,
  domainSettingsSchema,
} from '../settings.js';
import { auditEvent, auditLog, cleanSettings, getDomain, updateDomain } from '../store/domains.js';
import type { Store } from '../store/open.js';
import {
  dailyCounts,
  dispositionTotals,
  doneSteps,
  markStep,
  searchTransactions,
  type TransactionQuery,
} from '../store/transactions.js';
import { domainsOf, mayManage } from '../store/users.js';
import { formOf, type SendPage, sessionOf } from './request.js';
import { rolloutPage } from './views-rollout.js';
import { auditPage, domainListPage, messagePage, settingsPage } from './views-settings.js';
import { trafficPage } from './views-traffic.js';

type Params = { Params: { domain: string } };

/** The traffic page's query string: unknown parameters are ignored, known ones must be valid. */
const trafficQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(90).optional(),
  q: z.string().max(200).optional(),
  disposition: z.union([z.literal(''), z.string().regex(/^[a-z-]{1,32}$/)]).optional(),
  before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});

/**
 * Turns the settings form into a settings object for the config's zod schema. A ticked scanner
 * stays absent (the default, on) unless it was set on before, so saving an untouched form
 * changes nothing.
 */
export function formToSettings(form: Record<string, string>, before: DomainSettings): unknown {
  const scanner = (key: keyof NonNullable<DomainSettings['scanners']>): boolean | undefined =>
    form[`scanners.${key}`] === 'on' ? (before.scanners?.[key] === true ? true : undefined) : false;
  const threshold = (v: string | undefined): number | null | undefined => {
    const t = v?.trim() ?? '';
    if (t === '') return undefined;
    if (t.toLowerCase() === 'off') return null;
    // Not a number stays a string, so that the schema names the field.
    return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : (t as unknown as number);
  };
  const lines = (v: string | undefined): string[] | undefined => {
    const l = (v ?? '')
      .split(/[\r\n,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    return l.length ? l : undefined;
  };
  const drop = <T extends object>(o: T): T | undefined => {
    const e = Object.entries(o).filter(([, v]) => v !== undefined);
    return e.length ? (Object.fromEntries(e) as T) : undefined;
  };
  return drop({
    destination: form.destination ?? '',
    monitor: form.monitor === 'on',
    thresholds: drop({
      reject: threshold(form['thresholds.reject']),
      addHeader: threshold(form['thresholds.addHeader']),
      greylist: threshold(form['thresholds.greylist']),
    }),
    scanners: drop({
      antivirus: scanner('antivirus'),
      spam: scanner('spam'),
      rbl: scanner('rbl'),
      greylist: scanner('greylist'),
    }),
    senders: drop({ allow: lines(form['senders.allow']), block: lines(form['senders.block']) }),
    tls: form.tls ? form.tls : undefined,
    quarantine: form.quarantine?.trim() ? form.quarantine.trim() : undefined,
  });
}

/** The domain of the URL when the signed-in user may manage it; else answers 404 and returns undefined. */
async function ownDomain(
  store: Store,
  req: FastifyRequest<Params>,
  reply: FastifyReply,
  send: SendPage,
): Promise<{ domain: string; settings: DomainSettings } | undefined> {
  const s = sessionOf(req);
  const parsed = domainNameSchema.safeParse(req.params.domain);
  // One answer for "no such domain" and "not yours": the page must not tell which domains exist.
  if (s && parsed.success && (await mayManage(store, s.user, parsed.data))) {
    const settings = await getDomain(store, parsed.data);
    if (settings) return { domain: parsed.data, settings };
  }
  send(reply, 404, messagePage(s ?? {}, 'Not found', 'There is no such page, or it is not yours.'));
  return undefined;
}

/** The routes under `/domains`. */
export function registerDomainRoutes(
  app: FastifyInstance,
  store: Store,
  config: AdminConfig,
  opts: { send: SendPage; queryTimeout: number },
): void {
  const { send } = opts;

  app.get('/domains', async (req, reply) => {
    const s = sessionOf(req);
    if (!s) return reply.redirect('/login', 303);
    const added = (req.query as Record<string, string | undefined>).added;
    return send(
      reply,
      200,
      domainListPage(s, await domainsOf(store, s.user), added ? `Added ${added}.` : undefined),
    );
  });

  app.get<Params>('/domains/:domain', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    const saved = Number((req.query as Record<string, string | undefined>).saved);
    return send(
      reply,
      200,
      settingsPage(sessionOf(req) ?? {}, d.domain, d.settings, Number.isInteger(saved) ? { saved } : {}),
    );
  });

  app.post<Params>('/domains/:domain/settings', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    const s = sessionOf(req);
    const r = domainSettingsSchema.safeParse(formToSettings(formOf(req), d.settings));
    if (!r.success) {
      const errors = r.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
      return send(reply, 400, settingsPage(s ?? {}, d.domain, d.settings, { errors }));
    }
    const changes = await updateDomain(store, d.domain, cleanSettings(r.data), s?.user.name ?? '?');
    req.log.info(
      { user: s?.user.name, domain: d.domain, changed: changes.map((c) => c.field) },
      'settings changed',
    );
    return reply.redirect(`/domains/${d.domain}?saved=${changes.length}`, 303);
  });

  app.get<Params>('/domains/:domain/audit', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    return send(reply, 200, auditPage(sessionOf(req) ?? {}, d.domain, await auditLog(store, d.domain)));
  });

  app.get<Params>('/domains/:domain/traffic', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    const parsed = trafficQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return send(reply, 400, messagePage(sessionOf(req) ?? {}, 'Bad request', why));
    }
    const q = parsed.data;
    const days = q.days ?? 14;
    const query: TransactionQuery = { limit: 50 };
    if (q.q?.trim()) query.text = q.q.trim();
    if (q.disposition) query.disposition = q.disposition;
    if (q.before !== undefined) query.before = q.before;
    const [counts, rows] = await Promise.all([
      dailyCounts(store, d.domain, days),
      searchTransactions(store, d.domain, query),
    ]);
    return send(reply, 200, trafficPage(sessionOf(req) ?? {}, d.domain, counts, query, rows, 50));
  });

  app.get<Params>('/domains/:domain/rollout', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    const relays = config.relays ?? [];
    let mx: MxCheck | { unavailable: string };
    if (!config.dns) mx = { unavailable: 'no live check: the config names no DNS server (admin.dns)' };
    else if (!relays.length) mx = { unavailable: 'no live check: the config names no relays (admin.relays)' };
    else {
      mx = await checkMx(
        d.domain,
        relays.map((r) => r.name),
        { servers: config.dns, queryTimeout: opts.queryTimeout },
      );
    }
    const totals = await dispositionTotals(store, d.domain, { direction: 'inbound' });
    const outbound = await dispositionTotals(store, d.domain, { direction: 'outbound' });
    const wouldBe = Object.fromEntries(Object.entries(totals).filter(([k]) => k.startsWith('would-')));
    return send(
      reply,
      200,
      rolloutPage(sessionOf(req) ?? {}, d.domain, {
        settings: d.settings,
        relays,
        submission: config.submission,
        mx,
        wouldBe,
        total: Object.values(totals).reduce((a, b) => a + b, 0),
        outbound: Object.values(outbound).reduce((a, b) => a + b, 0),
        done: await doneSteps(store, d.domain),
      }),
    );
  });

  app.post<Params>('/domains/:domain/rollout/go-live', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    await updateDomain(store, d.domain, { ...d.settings, monitor: false }, sessionOf(req)?.user.name ?? '?');
    return reply.redirect(`/domains/${d.domain}/rollout`, 303);
  });

  app.post<Params>('/domains/:domain/rollout/firewall', async (req, reply) => {
    const d = await ownDomain(store, req, reply, send);
    if (!d) return reply;
    const user = sessionOf(req)?.user.name ?? '?';
    await markStep(store, d.domain, 'firewall', user);
    await auditEvent(store, { username: user, domain: d.domain, field: 'rollout.firewall', new: '"done"' });
    return reply.redirect(`/domains/${d.domain}/rollout`, 303);
  });
}
