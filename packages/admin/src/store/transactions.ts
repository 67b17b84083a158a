import { sql } from 'kysely';
import { AdminError } from '../errors.js';
import { type TransactionRecord, transactionRecordSchema } from '../settings.js';
import type { Store } from './open.js';

/** Records one transaction's metadata in the verdict log. */
export async function recordTransaction(store: Store, record: TransactionRecord): Promise<void> {
  const r = transactionRecordSchema.safeParse(record);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AdminError(
      'MEF_ADMIN_INVALID_INPUT',
      `transaction record: ${issue?.path.join('.') || '(record)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const t = r.data;
  await store.db
    .insertInto('transactions')
    .values({
      time: new Date(t.time).toISOString(),
      domain: t.domain,
      client: t.client,
      helo: t.helo ?? null,
      sender: t.sender,
      recipients: JSON.stringify(t.recipients),
      message_id: t.messageId ?? null,
      size: t.size,
      disposition: t.disposition,
      score: t.score,
      symbols: JSON.stringify(t.symbols),
      direction: t.direction,
      destination_reply: t.destinationReply ?? null,
    })
    .execute();
}

/** Counts of one day (`YYYY-MM-DD`, UTC) by disposition. */
export interface DayCounts {
  day: string;
  counts: Record<string, number>;
}

/** Transactions per day and disposition for the last `days` days (oldest first, empty days included). */
export async function dailyCounts(
  store: Store,
  domain: string,
  days: number,
  now = new Date(),
): Promise<DayCounts[]> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const day = sql<string>`substr(time, 1, 10)`;
  const rows = await store.db
    .selectFrom('transactions')
    .select([day.as('day'), 'disposition', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('domain', '=', domain)
    .where('time', '>=', start.toISOString())
    .groupBy([day, 'disposition'])
    .execute();
  const out: DayCounts[] = [];
  for (let i = 0; i < days; i++) {
    const d = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    out.push({ day: d, counts: Object.create(null) as Record<string, number> });
  }
  const byDay = new Map(out.map((d) => [d.day, d.counts]));
  for (const r of rows) {
    const counts = byDay.get(r.day);
    if (counts) counts[r.disposition] = Number(r.n);
  }
  return out;
}

/** Totals by disposition of a domain since `since` (all time when absent). */
export async function dispositionTotals(
  store: Store,
  domain: string,
  filter: { since?: string; direction?: 'inbound' | 'outbound' } = {},
): Promise<Record<string, number>> {
  let q = store.db
    .selectFrom('transactions')
    .select(['disposition', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('domain', '=', domain);
  if (filter.since) q = q.where('time', '>=', filter.since);
  if (filter.direction) q = q.where('direction', '=', filter.direction);
  const rows = await q.groupBy('disposition').execute();
  const out = Object.create(null) as Record<string, number>;
  for (const r of rows) out[r.disposition] = Number(r.n);
  return out;
}

/** A search of the verdict log. */
export interface TransactionQuery {
  /** Text found in the sender, a recipient, the Message-ID, the client or a symbol (any case). */
  text?: string;
  disposition?: string;
  /** Only rows older than this id (the next page). */
  before?: number;
  /** At most this many rows (default 50, at most 500). */
  limit?: number;
}

/** One verdict log row. */
export interface TransactionRow extends TransactionRecord {
  id: number;
}

/** The newest matching rows of a domain's verdict log, newest first. */
export async function searchTransactions(
  store: Store,
  domain: string,
  query: TransactionQuery = {},
): Promise<TransactionRow[]> {
  let q = store.db.selectFrom('transactions').selectAll().where('domain', '=', domain);
  if (query.text) {
    const like = `%${query.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or(
        (['sender', 'recipients', 'message_id', 'client', 'symbols'] as const).map(
          (col) => sql<boolean>`lower(${sql.ref(col)}) like ${like} escape '\\'`,
        ),
      ),
    );
  }
  if (query.disposition) q = q.where('disposition', '=', query.disposition);
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  const limit = Math.min(Math.max(1, query.limit ?? 50), 500);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    time: r.time,
    client: r.client,
    ...(r.helo !== null ? { helo: r.helo } : {}),
    sender: r.sender,
    recipients: JSON.parse(r.recipients) as string[],
    domain: r.domain,
    ...(r.message_id !== null ? { messageId: r.message_id } : {}),
    size: Number(r.size),
    disposition: r.disposition,
    score: Number(r.score),
    symbols: JSON.parse(r.symbols) as string[],
    direction: r.direction === 'outbound' ? 'outbound' : 'inbound',
    ...(r.destination_reply !== null ? { destinationReply: r.destination_reply } : {}),
  }));
}

/** Deletes verdict log rows older than `before` (ISO time); resolves with how many went. */
export async function pruneTransactions(store: Store, before: string): Promise<number> {
  const r = await store.db.deleteFrom('transactions').where('time', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Marks a rollout step done for a domain (idempotent). */
export async function markStep(store: Store, domain: string, step: string, username: string): Promise<void> {
  await store.db.deleteFrom('rollout').where('domain', '=', domain).where('step', '=', step).execute();
  await store.db
    .insertInto('rollout')
    .values({ domain, step, done_by: username, done_at: new Date().toISOString() })
    .execute();
}

/** The rollout steps marked done for a domain, by step. */
export async function doneSteps(
  store: Store,
  domain: string,
): Promise<Map<string, { by: string; at: string }>> {
  const rows = await store.db.selectFrom('rollout').selectAll().where('domain', '=', domain).execute();
  return new Map(rows.map((r) => [r.step, { by: r.done_by, at: r.done_at }]));
}
