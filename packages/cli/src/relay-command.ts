import { dirname, resolve } from 'node:path';
import { isPostgresUrl, linkRelay } from '@mef/admin';
import { createRelay, type DomainSettingsSource, type TransactionRecord } from '@mef/relay';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile, modelExists } from './config.js';
import type { Io } from './program.js';
import { resolveConfig } from './setup.js';

/** Reads the file and its `relay:` section (a file without one is a configuration error). */
async function load(file: string, env: NodeJS.ProcessEnv) {
  const parsed = await loadConfigFile(file);
  const relay = parsed.relay;
  if (!relay) throw new ConfigError(`${file}: relay: expected the relay section, found nothing`);
  return { ...resolveConfig(parsed, {}, env), relay };
}

/** The file's configuration with the per-transaction log on unless the file says otherwise. */
function withLog(config: Awaited<ReturnType<typeof load>>) {
  return { ...config, relay: { ...config.relay, log: config.relay.log ?? { level: 'info' as const } } };
}

/**
 * `mef relay --config FILE`: runs the filtering relay until SIGTERM or SIGINT (graceful: the
 * transactions in flight finish). SIGHUP re-reads the whole file and applies it (filters,
 * thresholds, limits, domains, outbound, submission) to new sessions, while open sessions finish
 * on the configuration they started with; a bad file is refused and the running one kept. A new
 * listening address needs a restart. Logs one pino JSON line per transaction.
 */
export function addRelayCommand(program: Command, io: Io, exit: (code: number) => void): void {
  const env = io.env ?? process.env;
  program
    .command('relay')
    .description(
      'run the filtering relay: scan mail as it passes, answer 250 only after the destination accepted',
    )
    .requiredOption('--config <file>', 'YAML or JSON configuration with a relay: section')
    .action(async (flags: { config: string }) => {
      const config = await load(flags.config, env);
      let domains: DomainSettingsSource | undefined;
      // With the admin interface's database, per-domain settings come from it (the file's
      // domains seed it) and every transaction's metadata goes into its verdict log.
      const database = config.admin?.database;
      let onTransaction: ((r: TransactionRecord) => void) | undefined;
      let closeStore: (() => Promise<void>) | undefined;
      if (database) {
        const url = isPostgresUrl(database) ? database : resolve(dirname(flags.config), database);
        const link = await linkRelay(url, {
          seed: JSON.parse(JSON.stringify(config.relay.domains)),
          pollMs: 2000,
          onError: (err) => io.stderr(`mef relay: admin database: ${err.message}\n`),
        }).catch((err: Error) => {
          throw new ConfigError(`admin.database: ${err.message}`);
        });
        domains = link.domainSettings;
        onTransaction = link.onTransaction;
        closeStore = link.close;
      }
      let relay: ReturnType<typeof createRelay>;
      try {
        // Without a database, each configuration's own `relay.domains` is used (reload included).
        relay = createRelay(withLog(config), {
          ...(domains ? { domainSettings: domains } : {}),
          filters: { exists: modelExists },
          ...(onTransaction ? { onTransaction } : {}),
        });
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
      const ports = await relay.listen().catch((err: Error) => {
        throw new ConfigError(`could not start: ${err.message}`);
      });
      const r = relay.config.relay;
      io.stderr(
        `mef relay: listening on ${r.listen.host}:${ports.smtp} as ${r.hostname} for ${Object.keys(r.domains).join(', ') || 'no domains'}\n`,
      );
      // One reload at a time, in the order the signals came.
      let reloading: Promise<void> = Promise.resolve();
      const reload = () => {
        reloading = reloading.then(async () => {
          try {
            const next = await load(flags.config, env);
            const restart = await relay.reload(withLog(next));
            // With a database, the domains stay the database's; the file only seeded it.
            const names = database ? 'from the database' : Object.keys(next.relay.domains).join(', ');
            io.stderr(
              `mef relay: reloaded ${flags.config}: domains ${names}${
                restart.length ? `; ${restart.join(', ')} changed and need a restart` : ''
              }\n`,
            );
          } catch (err) {
            io.stderr(
              `mef relay: reload refused, keeping the running configuration: ${(err as Error).message}\n`,
            );
          }
        });
      };
      process.on('SIGHUP', reload);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      process.off('SIGHUP', reload);
      await reloading;
      io.stderr('mef relay: stopping (transactions in flight finish first)\n');
      await relay.close();
      await closeStore?.();
      exit(0);
    });
}
