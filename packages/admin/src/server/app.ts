import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { type FastifyInstance, type FastifyReply, type FastifyRequest, fastify } from 'fastify';
import { z } from 'zod';
import type { AdminConfig } from '../settings.js';
import type { Store } from '../store/open.js';
import { pruneTransactions } from '../store/transactions.js';
import { authenticate, createSession, deleteSession, findSession } from '../store/users.js';
import { registerDomainRoutes } from './domain-routes.js';
import { STYLE } from './layout.js';
import { registerOperatorRoutes } from './operator-routes.js';
import { FailureLimiter } from './rate-limit.js';
import { formOf, sessionOf, setSession } from './request.js';
import { loginPage, messagePage } from './views-settings.js';

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  /** Where the request log goes (pino JSON lines); `false` for none (default: standard output). */
  log?: Writable | false;
  /** Failed logins allowed per user name within `windowMs` (default 5). */
  loginPerUser?: number;
  /** Failed logins allowed per client address within `windowMs` (default 20). */
  loginPerClient?: number;
  /** The login rate-limit window in ms (default 15 minutes). */
  loginWindowMs?: number;
  /** Session lifetime in ms (default 12 hours). */
  sessionMs?: number;
  /** Timeout of the rollout page's live MX check in ms (default 1,500). */
  queryTimeout?: number;
}

/** A running (or ready to run) admin web server. */
export interface AdminServer {
  /** The fastify instance (for `inject` in tests, or more routes). */
  readonly app: FastifyInstance;
  /** Starts listening on `config.listen`; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops listening (the store stays open: it is the caller's). */
  close(): Promise<void>;
}

const SESSION_COOKIE = 'mef_session';
const LOGIN_COOKIE = 'mef_login';

function cookies(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const loginSchema = z.strictObject({
  _csrf: z.string(),
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(1024),
});

/**
 * The domain administrators' web interface on `store`: server-rendered HTML, no script.
 * Every form carries a CSRF token; sessions are HttpOnly SameSite=Strict cookies; a domain
 * administrator gets 404 for any domain that is not theirs.
 */
export function createAdminServer(
  config: AdminConfig,
  store: Store,
  options: AdminServerOptions = {},
): AdminServer {
  const tls = config.tls
    ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }
    : undefined;
  const logger =
    options.log === false
      ? false
      : {
          level: 'info',
          stream: options.log ?? process.stdout,
          // Request logs name method, URL and address only; these paths never hold a secret either way.
          redact: ['req.headers.cookie', 'req.headers.authorization', 'req.body'],
        };
  const app = (
    tls ? fastify({ logger, https: tls, bodyLimit: 65_536 }) : fastify({ logger, bodyLimit: 65_536 })
  ) as FastifyInstance;
  const secure = tls ? '; Secure' : '';
  const perUser = new FailureLimiter(options.loginPerUser ?? 5, options.loginWindowMs ?? 15 * 60_000);
  const perClient = new FailureLimiter(options.loginPerClient ?? 20, options.loginWindowMs ?? 15 * 60_000);
  const sessionMs = options.sessionMs ?? 12 * 3_600_000;

  // Forms only: no JSON body parser, so a cross-site "simple" JSON post has nothing to reach.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out = Object.create(null) as Record<string, string>;
    for (const [k, v] of new URLSearchParams(String(body))) if (!(k in out)) out[k] = v;
    done(null, out);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    return payload;
  });

  const send = (reply: FastifyReply, code: number, body: string) =>
    reply.code(code).type('text/html; charset=utf-8').send(body);

  const PUBLIC = new Set(['/login', '/style.css', '/healthz']);
  app.addHook('preHandler', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC.has(path)) {
      if (req.method === 'POST' && !sameToken(formOf(req)._csrf, cookies(req).get(LOGIN_COOKIE))) {
        return send(
          reply,
          403,
          messagePage({}, 'Forbidden', 'The form has expired: load the login page again.'),
        );
      }
      return;
    }
    const token = cookies(req).get(SESSION_COOKIE);
    const found = token ? await findSession(store, token) : undefined;
    if (req.method === 'POST') {
      // The CSRF check comes first: a post without its token gets 403 whoever sends it.
      if (!found || !sameToken(formOf(req)._csrf, found.csrf)) {
        return send(
          reply,
          403,
          messagePage({}, 'Forbidden', 'The form has expired or did not come from this site.'),
        );
      }
    } else if (!found) {
      return reply.redirect('/login', 303);
    }
    if (found && token) setSession(req, { ...found, token });
  });

  app.get('/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(STYLE));
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok'));
  app.get('/', async (_req, reply) => reply.redirect('/domains', 303));

  app.get('/login', async (req, reply) => {
    let csrf = cookies(req).get(LOGIN_COOKIE);
    if (!csrf || !/^[A-Za-z0-9_-]{43}$/.test(csrf)) {
      csrf = randomBytes(32).toString('base64url');
      reply.header('set-cookie', `${LOGIN_COOKIE}=${csrf}; Path=/login; HttpOnly; SameSite=Strict${secure}`);
    }
    return send(reply, 200, loginPage(csrf));
  });

  app.post('/login', async (req, reply) => {
    const csrf = cookies(req).get(LOGIN_COOKIE) ?? '';
    const r = loginSchema.safeParse({ ...formOf(req) });
    if (!r.success) return send(reply, 400, loginPage(csrf, 'Enter a user name and a password.'));
    const userKey = r.data.username.toLowerCase();
    if (perUser.blocked(userKey) || perClient.blocked(req.ip)) {
      req.log.warn({ client: req.ip }, 'login rate limit reached');
      return send(reply, 429, loginPage(csrf, 'Too many failed logins: wait a few minutes and try again.'));
    }
    const user = await authenticate(store, r.data.username, r.data.password);
    if (!user) {
      perUser.fail(userKey);
      perClient.fail(req.ip);
      req.log.info({ client: req.ip }, 'login failed');
      return send(reply, 401, loginPage(csrf, 'Wrong user name or password.'));
    }
    perUser.reset(userKey);
    const session = await createSession(store, user.name, sessionMs);
    req.log.info({ user: user.name }, 'login');
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(sessionMs / 1000)}${secure}`,
    );
    return reply.redirect('/domains', 303);
  });

  app.post('/logout', async (req, reply) => {
    const s = sessionOf(req);
    if (s) await deleteSession(store, s.token);
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`);
    return reply.redirect('/login', 303);
  });

  registerDomainRoutes(app, store, config, { send, queryTimeout: options.queryTimeout ?? 1500 });
  registerOperatorRoutes(app, store, { send });

  app.setNotFoundHandler(async (req, reply) => {
    const s = sessionOf(req);
    return send(reply, 404, messagePage(s ?? {}, 'Not found', 'There is no such page, or it is not yours.'));
  });
  app.setErrorHandler(async (err, req, reply) => {
    const code = (err as { statusCode?: number }).statusCode ?? 500;
    if (code >= 500) req.log.error({ err }, 'request failed');
    const s = sessionOf(req);
    return send(
      reply,
      code,
      messagePage(
        s ?? {},
        code >= 500 ? 'Error' : 'Bad request',
        code >= 500 ? 'Something went wrong; it has been logged.' : (err as Error).message,
      ),
    );
  });

  // The verdict log keeps recent transactions only: older rows go at start and every hour.
  const keepMs = (config.keepDays ?? 30) * 86_400_000;
  let pruner: NodeJS.Timeout | undefined;
  const prune = () =>
    pruneTransactions(store, new Date(Date.now() - keepMs).toISOString()).catch((err: unknown) => {
      app.log.error({ err }, 'pruning the verdict log failed');
      return 0;
    });

  return {
    app,
    async listen() {
      const address = await app.listen({ host: config.listen.host, port: config.listen.port });
      await prune();
      pruner = setInterval(() => void prune(), 3_600_000);
      pruner.unref();
      return address;
    },
    async close() {
      if (pruner) clearInterval(pruner);
      await app.close();
    },
  };
}
