import {
  CompiledQuery,
  type DialectAdapter,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
} from 'kysely';
import { Migrator } from 'kysely/migration';
import { AdminError } from '../errors.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

/** The admin store: users, domains, settings, the audit log and the verdict log. */
export interface Store {
  /** The query layer (one for both databases). */
  readonly db: Kysely<Database>;
  readonly dialect: 'sqlite' | 'postgres';
  /** Closes the database connection(s). */
  close(): Promise<void>;
}

/**
 * SQLite with every transaction begun IMMEDIATE. Kysely begins them DEFERRED: a transaction that
 * has read and then writes after another process committed fails at once with
 * SQLITE_BUSY_SNAPSHOT, whatever the busy timeout (`mef admin add-user` beside a running relay, or
 * two processes migrating a new file). IMMEDIATE takes the write lock at BEGIN, where the busy
 * timeout applies, so each writer waits its turn.
 *
 * Kysely's SQLite adapter also runs migrations outside any transaction (it says SQLite has no
 * transactional DDL, which it has), so two processes opening a new file both created the tables.
 * Here the migrations run in one IMMEDIATE transaction, which is the migration lock.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Most PostgreSQL connections in the pool (default 5). */
  poolSize?: number;
}

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/**
 * Opens the store at `database` (a SQLite file path, or a `postgres://` URL) and brings its
 * schema up to date. Throws an {@link AdminError} `MEF_ADMIN_DATABASE` when it cannot.
 */
export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<Store> {
  const dialect = isPostgresUrl(database) ? 'postgres' : 'sqlite';
  let db: Kysely<Database>;
  try {
    // Each driver loads only when used: a SQLite store never loads pg, and the reverse.
    if (dialect === 'postgres') {
      const pg = (await import('pg')).default;
      const pool = new pg.Pool({ connectionString: database, max: options.poolSize ?? 5 });
      // An idle client that loses its server must not crash the process: the next query fails instead.
      pool.on('error', () => {});
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    } else {
      const BetterSqlite3 = (await import('better-sqlite3')).default;
      const sqlite = new BetterSqlite3(database, { timeout: 5000 });
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('foreign_keys = ON');
      db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
    }
  } catch (err) {
    throw new AdminError('MEF_ADMIN_DATABASE', `cannot open the database: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const { error } = await new Migrator({ db, provider: migrations(dialect) }).migrateToLatest();
  if (error) {
    await db.destroy();
    // The URL may hold a password: name the database by its kind, not by its URL.
    throw new AdminError(
      'MEF_ADMIN_DATABASE',
      `cannot migrate the ${dialect} database: ${(error as Error).message ?? String(error)}`,
      { cause: error },
    );
  }
  return { db, dialect, close: () => db.destroy() };
}
