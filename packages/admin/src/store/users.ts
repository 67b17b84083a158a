import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AdminError } from '../errors.js';
import { hashPassword, verifyNothing, verifyPassword } from '../password.js';
import { domainNameSchema } from '../settings.js';
import type { Store } from './open.js';

/** A user name: letters, digits and `._@-`, 1 to 64 characters. */
export const userNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a user name of letters, digits and ._@- (1 to 64)' });

/** A password: 10 to 1,024 characters. */
export const passwordSchema = z
  .string()
  .min(10, { error: 'a password of at least 10 characters' })
  .max(1024, { error: 'a password of at most 1024 characters' });

/** A new user. */
export interface NewUser {
  name: string;
  password: string;
  /** The domains the user administers (already in the store). */
  domains?: readonly string[];
  /** An operator sees every domain and can add domains and users. */
  operator?: boolean;
}

/** A signed-in user. */
export interface User {
  name: string;
  operator: boolean;
}

function invalid(what: string, err: z.ZodError): AdminError {
  return new AdminError('MEF_ADMIN_INVALID_INPUT', `${what}: ${err.issues[0]?.message ?? 'invalid'}`);
}

/** Adds a user with an scrypt hash of the password. */
export async function addUser(store: Store, user: NewUser): Promise<void> {
  const name = userNameSchema.safeParse(user.name);
  if (!name.success) throw invalid('user name', name.error);
  const password = passwordSchema.safeParse(user.password);
  if (!password.success) throw invalid('password', password.error);
  const domains: string[] = [];
  for (const d of user.domains ?? []) {
    const r = domainNameSchema.safeParse(d);
    if (!r.success) throw invalid(`domain ${JSON.stringify(d)}`, r.error);
    domains.push(r.data);
  }
  const hash = await hashPassword(password.data);
  await store.db.transaction().execute(async (trx) => {
    const exists = await trx
      .selectFrom('users')
      .select('name')
      .where('name', '=', name.data)
      .executeTakeFirst();
    if (exists) throw new AdminError('MEF_ADMIN_DUPLICATE', `user ${name.data} is already in the store`);
    for (const d of domains) {
      const found = await trx.selectFrom('domains').select('name').where('name', '=', d).executeTakeFirst();
      if (!found) {
        throw new AdminError(
          'MEF_ADMIN_UNKNOWN_DOMAIN',
          `domain ${d} is not in the store: seed it from the config's domains, or an operator adds it`,
        );
      }
    }
    await trx
      .insertInto('users')
      .values({
        name: name.data,
        password_hash: hash,
        operator: user.operator ? 1 : 0,
        created: new Date().toISOString(),
      })
      .execute();
    if (domains.length) {
      await trx
        .insertInto('user_domains')
        .values([...new Set(domains)].map((domain) => ({ username: name.data, domain })))
        .execute();
    }
  });
}

/** The user when name and password match, else undefined (in about the same time either way). */
export async function authenticate(store: Store, name: string, password: string): Promise<User | undefined> {
  const row = await store.db
    .selectFrom('users')
    .select(['name', 'password_hash', 'operator'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) return verifyNothing(password).then(() => undefined);
  return (await verifyPassword(password, row.password_hash))
    ? { name: row.name, operator: Number(row.operator) === 1 }
    : undefined;
}

/** Every user with their domains. */
export async function listUsers(store: Store): Promise<Array<User & { domains: string[] }>> {
  const users = await store.db.selectFrom('users').select(['name', 'operator']).orderBy('name').execute();
  const links = await store.db.selectFrom('user_domains').select(['username', 'domain']).execute();
  return users.map((u) => ({
    name: u.name,
    operator: Number(u.operator) === 1,
    domains: links
      .filter((l) => l.username === u.name)
      .map((l) => l.domain)
      .sort(),
  }));
}

/** The domains a user may see: every domain for an operator. */
export async function domainsOf(store: Store, user: User): Promise<string[]> {
  if (user.operator) {
    return (await store.db.selectFrom('domains').select('name').orderBy('name').execute()).map((r) => r.name);
  }
  const rows = await store.db
    .selectFrom('user_domains')
    .innerJoin('domains', 'domains.name', 'user_domains.domain')
    .select('domains.name')
    .where('user_domains.username', '=', user.name)
    .orderBy('domains.name')
    .execute();
  return rows.map((r) => r.name);
}

/** True when `user` may see and change `domain` (which must exist). */
export async function mayManage(store: Store, user: User, domain: string): Promise<boolean> {
  if (user.operator) {
    return !!(await store.db
      .selectFrom('domains')
      .select('name')
      .where('name', '=', domain)
      .executeTakeFirst());
  }
  const row = await store.db
    .selectFrom('user_domains')
    .innerJoin('domains', 'domains.name', 'user_domains.domain')
    .select('domains.name')
    .where('user_domains.username', '=', user.name)
    .where('user_domains.domain', '=', domain)
    .executeTakeFirst();
  return !!row;
}

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new session: the cookie token (kept only by the browser) and the session's CSRF token. */
export async function createSession(
  store: Store,
  username: string,
  ttlMs: number,
): Promise<{ token: string; csrf: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const now = Date.now();
  // Expired sessions go when a new one starts: the table stays small without a timer.
  await store.db.deleteFrom('sessions').where('expires', '<', new Date(now).toISOString()).execute();
  await store.db
    .insertInto('sessions')
    .values({ id: tokenHash(token), username, csrf, expires: new Date(now + ttlMs).toISOString() })
    .execute();
  return { token, csrf };
}

/** The user and CSRF token of a live session, or undefined. */
export async function findSession(
  store: Store,
  token: string,
): Promise<{ user: User; csrf: string } | undefined> {
  const row = await store.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.name', 'sessions.username')
    .select(['users.name', 'users.operator', 'sessions.csrf', 'sessions.expires'])
    .where('sessions.id', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row || row.expires < new Date().toISOString()) return undefined;
  return { user: { name: row.name, operator: Number(row.operator) === 1 }, csrf: row.csrf };
}

/** Ends a session. */
export async function deleteSession(store: Store, token: string): Promise<void> {
  await store.db.deleteFrom('sessions').where('id', '=', tokenHash(token)).execute();
}
