import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isPostgresUrl, linkRelay } from '@mef/admin';
import { createRelay, relayThreadCount, relayWorkerCount } from '@mef/relay';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile, modelExists } from './config.js';
import type { Io } from './program.js';
import { processChannel, type RelayChannel, runPrimary, workerChannel } from './relay-cluster.js';
import type { StoreLink } from './relay-cluster-store.js';
import { relayThreads } from './relay-thread.js';
import { resolveConfig } from './setup.js';

/** Reads the file and its `relay:` section (a file without one is a configuration error). */
async function load(file: string, env: NodeJS.ProcessEnv) {
  const parsed = await loadConfigFile(file);
  const relay = parsed.relay;
  if (!relay) throw new ConfigError(`${file}: relay: expected the relay section, found nothing`);
  return { ...resolveConfig(parsed, {}, env), relay };
}

type Loaded = Awaited<ReturnType<typeof load>>;

/**
 * The file's configuration with the per-transaction log on unless the file says otherwise. A
 * worker leaves `/metrics` to the primary, which serves it for all workers.
 */
function withLog(config: Loaded) {
  const { metrics: _served, ...relay } = config.relay;
  return {
    ...config,
    relay: {
      ...(cluster.isWorker ? relay : config.relay),
      log: config.relay.log ?? { level: 'info' as const },
    },
  };
}

/** How many processes serve: `relay.workers` (`auto` by default: see `relayWorkerCount`). */
function workerCount(config: Loaded): number {
  return relayWorkerCount(config.relay.workers, availableParallelism());
}

/** The admin database's location: a PostgreSQL URL, or a file next to the config file. */
function databaseUrl(config: Loaded, file: string): string | undefined {
  const database = config.admin?.database;
  if (!database) return undefined;
  return isPostgresUrl(database) ? database : resolve(dirname(file), database);
}

/**
 * `mef relay --config FILE`: runs the filtering relay until SIGTERM or SIGINT (graceful: the
 * transactions in flight finish). SIGHUP re-reads the whole file and applies it (filters,
 * thresholds, limits, domains, outbound, submission) to new sessions, while open sessions finish
 * on the configuration they started with; a bad file is refused and the running one kept. A new
 * listening address needs a restart. Logs one pino JSON line per transaction. With
 * `relay.workers` above 1 (`auto` by default: one process with 2 CPUs or fewer, else one per CPU) the relay runs as that many processes
 * (see `relay-cluster.ts`); with the admin database, the primary alone reads the settings and
 * writes the verdict log (see `relay-cluster-store.ts`).
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
      const workers = workerCount(config);
      const url = databaseUrl(config, flags.config);
      if (cluster.isPrimary && workers > 1) {
        // The primary seeds the admin database, polls its settings for every worker and writes
        // their verdict log; the workers never open it.
        const store = url ? await link(url, config, io) : undefined;
        let code: number;
        try {
          code = await runPrimary({
            workers,
            scheduling: config.relay.scheduling ?? 'kernel',
            io,
            // The same checks as a worker's reload, without starting anything.
            check: async () => {
              createRelay(await load(flags.config, env), { log: { info() {} } });
            },
            metrics: config.relay.metrics,
            drainTime: config.relay.limits?.drainTime ?? 60_000,
            ...(store ? { store } : {}),
          });
        } finally {
          // Before exiting: the close waits for the verdict-log writes under way.
          await store?.close();
        }
        exit(code);
        return;
      }
      let channel: RelayChannel;
      let openStore: (() => Promise<StoreLink>) | undefined;
      if (cluster.isWorker) {
        const worker = workerChannel();
        channel = worker;
        if (url) openStore = () => worker.storeLink();
      } else {
        channel = processChannel(io);
        if (url)
          openStore = async () => {
            const store = await link(url, config, io);
            // The same line as a primary's, for the one process it serves.
            store.domainSettings.onChange((g) =>
              io.stderr(`mef relay: settings generation ${g} from the database in force\n`),
            );
            return store;
          };
      }
      await serve(flags.config, config, io, channel, env, openStore);
      exit(0);
    });
}

/** Links the relay to the admin database, seeding it from the file's domains. */
async function link(url: string, config: Loaded, io: Io) {
  return linkRelay(url, {
    seed: JSON.parse(JSON.stringify(config.relay.domains)),
    pollMs: 2000,
    onError: (err) => io.stderr(`mef relay: admin database: ${err.message}\n`),
  }).catch((err: Error) => {
    throw new ConfigError(`admin.database: ${err.message}`);
  });
}

/**
 * One relay process: listens, reloads when asked, stops when told. With the admin interface's
 * database (`openStore`), per-domain settings come from it (the file's domains seed it) and every
 * transaction's metadata goes into its verdict log: directly in a single process, through the
 * primary in a worker.
 */
async function serve(
  file: string,
  config: Loaded,
  io: Io,
  channel: RelayChannel,
  env: NodeJS.ProcessEnv,
  openStore: (() => Promise<StoreLink>) | undefined,
): Promise<void> {
  const store = await openStore?.().catch((err: Error) => {
    throw err instanceof ConfigError ? err : new ConfigError(`admin.database: ${err.message}`);
  });
  let relay: ReturnType<typeof createRelay>;
  try {
    // Without a database, each configuration's own `relay.domains` is used (reload included).
    relay = createRelay(withLog(config), {
      ...(store ? { domainSettings: store.domainSettings, onTransaction: store.onTransaction } : {}),
      filters: { exists: modelExists },
      // `relay.threads`: the message stages in worker threads running this binary.
      threads: (c) => {
        const size = io.workerScript ? relayThreadCount(c.relay.threads, availableParallelism()) : 0;
        return size > 0 && io.workerScript ? relayThreads(io.workerScript, c, size) : undefined;
      },
    });
  } catch (err) {
    await store?.close();
    throw new ConfigError((err as Error).message);
  }
  const ports = await relay.listen().catch(async (err: Error) => {
    await store?.close();
    throw new ConfigError(`could not start: ${err.message}`);
  });
  const r = relay.config.relay;
  channel.listening(
    `mef relay: listening on ${r.listen.host}:${ports.smtp} as ${r.hostname} for ${Object.keys(r.domains).join(', ') || 'no domains'}${relay.threads ? ` (the message phase in ${relay.threads} thread${relay.threads > 1 ? 's' : ''})` : ''}\n`,
  );
  channel.serveReports(relay);
  channel.onReload(async () => {
    try {
      const next = await load(file, env);
      const restart = await relay.reload(withLog(next));
      // With a database, the domains stay the database's; the file only seeded it.
      const names = store ? 'from the database' : Object.keys(next.relay.domains).join(', ');
      return {
        ok: true,
        text: `mef relay: reloaded ${file}: domains ${names}${
          restart.length ? `; ${restart.join(', ')} changed and need a restart` : ''
        }\n`,
      };
    } catch (err) {
      return {
        ok: false,
        text: `mef relay: reload refused, keeping the running configuration: ${(err as Error).message}\n`,
      };
    }
  });
  await channel.stopped();
  channel.close();
  if (!cluster.isWorker) io.stderr('mef relay: stopping (transactions in flight finish first)\n');
  await relay.close();
  await store?.close();
}
