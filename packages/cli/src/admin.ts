import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { AdminConfig, DomainSettings, Store } from '@mef/admin';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from './config.js';
import type { Io } from './program.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The config file's `admin:` section, with file paths taken relative to the config file, and its
 * `relay.domains`: the seed of a new store, as `mef relay` uses it.
 */
async function adminSection(
  file: string | undefined,
): Promise<AdminConfig & { seed: Record<string, DomainSettings> }> {
  if (!file) throw new ConfigError('--config: a config file with an admin: section is required');
  const config = await loadConfigFile(file);
  if (!config.admin) throw new ConfigError(`${file}: admin: the section is missing (listen, database)`);
  const base = dirname(resolve(file));
  const { isPostgresUrl } = await import('@mef/admin');
  const admin = config.admin;
  return {
    ...admin,
    database: isPostgresUrl(admin.database) ? admin.database : resolve(base, admin.database),
    ...(admin.tls ? { tls: { cert: resolve(base, admin.tls.cert), key: resolve(base, admin.tls.key) } } : {}),
    // Parsed by the schema: a JSON copy drops the members it left undefined.
    seed: JSON.parse(JSON.stringify(config.relay?.domains ?? {})),
  };
}

/** The first line of standard input, at most 4 KiB: the password of `add-user`. */
async function readPassword(stdin: Readable | undefined): Promise<string> {
  if (!stdin) throw new ConfigError('add-user: the password is read from standard input, which is missing');
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes('\n') || text.length > 4096) break;
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new ConfigError('add-user: no password on standard input (give it as the first line)');
  if (line.length > 1024) throw new ConfigError('add-user: the password is longer than 1024 characters');
  return line;
}

/**
 * Opens the store and adds the file's `relay.domains` it lacks (so users can be given them before
 * a relay has run), turning a database failure into a clear one-line error.
 */
async function open(database: string, seed: Readonly<Record<string, DomainSettings>>) {
  const { AdminError, openStore, seedDomains } = await import('@mef/admin');
  let store: Store | undefined;
  try {
    store = await openStore(database);
    await seedDomains(store, seed);
    return store;
  } catch (err) {
    await store?.close();
    if (err instanceof AdminError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Adds `mef admin` and `mef admin add-user` to the program. */
export function registerAdmin(program: Command, io: Io, exit: (code: number) => void): void {
  const admin = program
    .command('admin')
    .description("serve the domain administrators' web interface (the config's admin: section)")
    .option('--config <file>', 'YAML or JSON configuration with an admin: section')
    .addHelpText(
      'after',
      `
Examples:
  mef admin --config mef.yaml
  echo "$PASSWORD" | mef admin add-user alice --domain example.net --config mef.yaml`,
    )
    .action(async (flags: { config?: string }) => {
      const config = await adminSection(flags.config);
      const { createAdminServer } = await import('@mef/admin');
      const store = await open(config.database, config.seed);
      const { seed: _seed, ...adminConfig } = config;
      const server = createAdminServer(adminConfig, store);
      let url: string;
      try {
        url = await server.listen();
      } catch (err) {
        await store.close();
        throw new ConfigError(`admin.listen: cannot listen: ${(err as Error).message}`);
      }
      io.stderr(`mef admin: listening on ${url}\n`);
      await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
      await server.close();
      await store.close();
      exit(0);
    });

  admin
    .command('add-user')
    .description('add a user; the password is the first line of standard input')
    .argument('<name>', 'user name')
    .option(
      '--domain <domain>',
      "a domain the user administers (repeatable; in the store, or in the file's relay.domains)",
      collect,
    )
    .option('--operator', 'an operator: sees every domain, adds domains and users')
    .option('--config <file>', 'YAML or JSON configuration with an admin: section')
    .action(async (name: string, flags: { domain?: string[]; operator?: boolean; config?: string }) => {
      const config = await adminSection(flags.config ?? (admin.opts() as { config?: string }).config);
      if (!flags.operator && !flags.domain?.length) {
        throw new ConfigError('add-user: give at least one --domain, or --operator');
      }
      const password = await readPassword(io.stdin);
      const { AdminError, addUser } = await import('@mef/admin');
      const store = await open(config.database, config.seed);
      try {
        await addUser(store, {
          name,
          password,
          domains: flags.domain ?? [],
          operator: flags.operator === true,
        });
      } catch (err) {
        if (err instanceof AdminError) throw new ConfigError(`add-user: ${err.message}`);
        throw err;
      } finally {
        await store.close();
      }
      io.stdout(`added ${flags.operator ? 'operator' : 'user'} ${name}\n`);
      exit(0);
    });
}
