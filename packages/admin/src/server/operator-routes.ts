import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminError } from '../errors.js';
import { destinationSchema, domainNameSchema } from '../settings.js';
import { addDomain, auditEvent } from '../store/domains.js';
import type { Store } from '../store/open.js';
import { addUser, listUsers } from '../store/users.js';
import { formOf, type SendPage, sessionOf } from './request.js';
import { messagePage } from './views-settings.js';
import { usersPage } from './views-traffic.js';

/** The operator's routes: users and new domains. Anyone else gets 404, as for a domain not theirs. */
export function registerOperatorRoutes(app: FastifyInstance, store: Store, opts: { send: SendPage }): void {
  const { send } = opts;
  const operator = (req: FastifyRequest) => {
    const s = sessionOf(req);
    return s?.user.operator ? s : undefined;
  };
  const notFound = (req: FastifyRequest) =>
    messagePage(sessionOf(req) ?? {}, 'Not found', 'There is no such page, or it is not yours.');

  app.get('/admin/users', async (req, reply) => {
    const s = operator(req);
    if (!s) return send(reply, 404, notFound(req));
    return send(reply, 200, usersPage(s, await listUsers(store)));
  });

  app.post('/admin/users', async (req, reply) => {
    const s = operator(req);
    if (!s) return send(reply, 404, notFound(req));
    const form = formOf(req);
    const domains = (form.domains ?? '')
      .split(/[\s,]+/)
      .map((d) => d.trim())
      .filter(Boolean);
    try {
      await addUser(store, {
        name: form.name ?? '',
        password: form.password ?? '',
        domains,
        operator: form.operator === 'on',
      });
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      return send(reply, 400, usersPage(s, await listUsers(store), { error: err.message }));
    }
    for (const d of domains) {
      await auditEvent(store, {
        username: s.user.name,
        domain: d.toLowerCase(),
        field: 'user.added',
        new: JSON.stringify(form.name),
      });
    }
    return send(reply, 200, usersPage(s, await listUsers(store), { ok: `Added ${form.name}.` }));
  });

  app.post('/admin/domains', async (req, reply) => {
    const s = operator(req);
    if (!s) return send(reply, 404, notFound(req));
    const form = formOf(req);
    const name = domainNameSchema.safeParse(form.name ?? '');
    const destination = destinationSchema.safeParse(form.destination ?? '');
    if (!name.success || !destination.success) {
      const why = !name.success
        ? `domain: ${name.error.issues[0]?.message}`
        : `destination: ${destination.error?.issues[0]?.message}`;
      return send(reply, 400, messagePage(s, 'Bad request', why));
    }
    try {
      await addDomain(store, name.data, { destination: destination.data, monitor: true });
    } catch (err) {
      if (!(err instanceof AdminError)) throw err;
      return send(reply, 400, messagePage(s, 'Bad request', err.message));
    }
    await auditEvent(store, {
      username: s.user.name,
      domain: name.data,
      field: 'domain.added',
      new: JSON.stringify(destination.data),
    });
    return reply.redirect(`/domains?added=${encodeURIComponent(name.data)}`, 303);
  });
}
