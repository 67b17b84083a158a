import type { z } from 'zod';
import { AdminError } from '../errors.js';
import { type DomainSettings, domainNameSchema, domainSettingsSchema } from '../settings.js';
import type { Store } from './open.js';

/** Drops `undefined` members, so that parsed settings match {@link DomainSettings} exactly. */
export function cleanSettings(value: z.infer<typeof domainSettingsSchema>): DomainSettings {
  return JSON.parse(JSON.stringify(value)) as DomainSettings;
}

/** Validates settings with the config's schema; throws `MEF_ADMIN_INVALID_INPUT` naming the key. */
export function parseSettings(value: unknown, where: string): DomainSettings {
  const r = domainSettingsSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new AdminError(
      'MEF_ADMIN_INVALID_INPUT',
      `${where}: ${first?.path.join('.') || '(settings)'}: ${first?.message ?? 'invalid'}`,
    );
  }
  return cleanSettings(r.data);
}

function parseDomain(name: string): string {
  const r = domainNameSchema.safeParse(name);
  if (!r.success)
    throw new AdminError('MEF_ADMIN_INVALID_INPUT', `not a domain name: ${JSON.stringify(name)}`);
  return r.data;
}

/** Every domain with its settings, by name. */
export async function listDomains(store: Store): Promise<Map<string, DomainSettings>> {
  const rows = await store.db.selectFrom('domains').select(['name', 'settings']).orderBy('name').execute();
  return new Map(rows.map((r) => [r.name, JSON.parse(r.settings) as DomainSettings]));
}

/** The settings of one domain, or undefined. */
export async function getDomain(store: Store, name: string): Promise<DomainSettings | undefined> {
  const row = await store.db
    .selectFrom('domains')
    .select('settings')
    .where('name', '=', name.toLowerCase())
    .executeTakeFirst();
  return row ? (JSON.parse(row.settings) as DomainSettings) : undefined;
}

/** Adds a domain; throws `MEF_ADMIN_DUPLICATE` when it exists. */
export async function addDomain(store: Store, name: string, settings: DomainSettings): Promise<void> {
  const domain = parseDomain(name);
  const clean = parseSettings(settings, domain);
  if (await getDomain(store, domain)) {
    throw new AdminError('MEF_ADMIN_DUPLICATE', `domain ${domain} is already in the store`);
  }
  await store.db
    .insertInto('domains')
    .values({ name: domain, settings: JSON.stringify(clean), updated: new Date().toISOString() })
    .execute();
}

/**
 * Seeds the store from a config's `domains` map: adds each domain not in the store yet and leaves
 * the others alone (the store is the truth once it exists). Resolves with the names added. Relays
 * that start together on one database may seed at the same time: a domain another one added in
 * between is left alone, not an error.
 */
export async function seedDomains(
  store: Store,
  domains: Readonly<Record<string, DomainSettings>>,
): Promise<string[]> {
  const added: string[] = [];
  for (const [name, settings] of Object.entries(domains)) {
    const domain = parseDomain(name);
    if (await getDomain(store, domain)) continue;
    const clean = parseSettings(settings, domain);
    const r = await store.db
      .insertInto('domains')
      .values({ name: domain, settings: JSON.stringify(clean), updated: new Date().toISOString() })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) added.push(domain);
  }
  return added;
}

/** The settings as a flat list of `[key path, JSON value]`, for the audit log. */
function flatten(settings: DomainSettings): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else if (v !== undefined) out.set(path, JSON.stringify(v));
  };
  walk(settings, '');
  return out;
}

/** One changed key: its path and JSON values (`null` for absent). */
export interface SettingChange {
  field: string;
  old: string | null;
  new: string | null;
}

/** The keys that differ between two settings. */
export function diffSettings(before: DomainSettings, after: DomainSettings): SettingChange[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => ({ field: k, old: a.get(k) ?? null, new: b.get(k) ?? null }));
}

/**
 * Replaces a domain's settings and writes one audit row per changed key, in one transaction.
 * Resolves with the changes (none when nothing changed).
 */
export async function updateDomain(
  store: Store,
  name: string,
  settings: DomainSettings,
  username: string,
): Promise<SettingChange[]> {
  const domain = parseDomain(name);
  const clean = parseSettings(settings, domain);
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('domains')
      .select('settings')
      .where('name', '=', domain)
      .executeTakeFirst();
    if (!row) throw new AdminError('MEF_ADMIN_UNKNOWN_DOMAIN', `domain ${domain} is not in the store`);
    const changes = diffSettings(JSON.parse(row.settings) as DomainSettings, clean);
    if (!changes.length) return changes;
    const time = new Date().toISOString();
    await trx
      .updateTable('domains')
      .set({ settings: JSON.stringify(clean), updated: time })
      .where('name', '=', domain)
      .execute();
    await trx
      .insertInto('audit')
      .values(
        changes.map((c) => ({ time, username, domain, field: c.field, old_value: c.old, new_value: c.new })),
      )
      .execute();
    return changes;
  });
}

/** One audit log row. */
export interface AuditEntry {
  time: string;
  username: string;
  field: string;
  old: string | null;
  new: string | null;
}

/** The newest audit rows of a domain, newest first. */
export async function auditLog(store: Store, domain: string, limit = 200): Promise<AuditEntry[]> {
  const rows = await store.db
    .selectFrom('audit')
    .select(['time', 'username', 'field', 'old_value', 'new_value'])
    .where('domain', '=', domain)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    time: r.time,
    username: r.username,
    field: r.field,
    old: r.old_value,
    new: r.new_value,
  }));
}

/** Records an audit row that is not a settings change (a rollout step, a user added). */
export async function auditEvent(
  store: Store,
  entry: { username: string; domain: string; field: string; old?: string | null; new?: string | null },
): Promise<void> {
  await store.db
    .insertInto('audit')
    .values({
      time: new Date().toISOString(),
      username: entry.username,
      domain: entry.domain,
      field: entry.field,
      old_value: entry.old ?? null,
      new_value: entry.new ?? null,
    })
    .execute();
}
