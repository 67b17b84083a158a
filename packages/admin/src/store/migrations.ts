import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

type Dialect = 'sqlite' | 'postgres';

// Written once for both databases: only the auto-increment key differs.
function initial(dialect: Dialect): Migration {
  const idType = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('domains')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_domains')
        .addColumn('username', 'text', (c) => c.notNull().references('users.name').onDelete('cascade'))
        .addColumn('domain', 'text', (c) => c.notNull().references('domains.name').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_domains_pk', ['username', 'domain'])
        .execute();
      await db.schema
        .createTable('audit')
        .addColumn('id', idType, (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('old_value', 'text')
        .addColumn('new_value', 'text')
        .execute();
      await db.schema.createIndex('audit_domain_time').on('audit').columns(['domain', 'time']).execute();
      await db.schema
        .createTable('transactions')
        .addColumn('id', idType, (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('client', 'text', (c) => c.notNull())
        .addColumn('helo', 'text')
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('disposition', 'text', (c) => c.notNull())
        .addColumn('score', 'double precision', (c) => c.notNull())
        .addColumn('symbols', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('destination_reply', 'text')
        .execute();
      await db.schema
        .createIndex('transactions_domain_time')
        .on('transactions')
        .columns(['domain', 'time'])
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().references('users.name').onDelete('cascade'))
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('expires', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('rollout')
        .addColumn('domain', 'text', (c) => c.notNull().references('domains.name').onDelete('cascade'))
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('done_by', 'text', (c) => c.notNull())
        .addColumn('done_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollout_pk', ['domain', 'step'])
        .execute();
    },
  };
}

/** The store's migrations, in order. A new one gets the next number; none is ever edited. */
export function migrations(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return { '0001_initial': initial(dialect) };
    },
  };
}
