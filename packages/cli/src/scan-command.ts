import { type Command, Option } from 'commander';
import { ConfigError, defaultModelPath } from './config.js';
import { collect, EXT_HELP, extensions, MAX_WORKERS, positiveInt, workerCount } from './options.js';
import type { Io } from './program.js';
import { runScan } from './scan.js';
import { configFrom, type ScanFlags } from './scan-flags.js';
import { buildEngine, resolveConfig } from './setup.js';
import { WorkerPool } from './workers.js';

/** `mef scan PATH...`: scans files, folders, mboxes or standard input and prints a verdict for each. */
export function addScanCommand(program: Command, io: Io, exit: (code: number) => void): void {
  const env = io.env ?? process.env;
  program
    .command('scan')
    .description(
      'scan message files, directories (every file below, sorted), mboxes (each message is path#N) or - (standard input)',
    )
    .argument('<path...>', 'files, directories, mboxes, or - for standard input')
    .option('--json', 'one JSON object per message on standard output')
    .option('--ext <list>', EXT_HELP, extensions)
    .option('--ip <address>', 'client IP of the envelope')
    .option('--helo <name>', 'HELO name of the envelope')
    .option('--from <address>', 'MAIL FROM address of the envelope')
    .option('--rcpt <address>', 'a recipient (repeatable)', collect)
    .option('--user <name>', 'authenticated user')
    .addOption(new Option('--direction <direction>', 'mail direction').choices(['inbound', 'outbound']))
    .option('--clamd <address>', 'ClamAV clamd: host:port or /path/to/socket (repeatable: failover)', collect)
    .option('--spamd <host:port>', 'SpamAssassin spamd')
    .option('--rspamd <url>', 'rspamd, such as http://127.0.0.1:11333')
    .option('--dns <host:port>', 'DNS server for the lists (repeatable)', collect)
    .option(
      '--rbl <zone>',
      'DNS blocklist for the client IP and Received hops (repeatable); zen, dbl, surbl, dnswl or PRESET=ZONE use the preset return codes',
      collect,
    )
    .option('--uribl <zone>', 'DNS blocklist for link domains (repeatable)', collect)
    .option('--auth', 'check SPF, DKIM, DMARC and ARC (through the --dns servers)')
    .addOption(
      new Option('--dmarc-reject <action>', 'what a DMARC failure under p=reject does (with --auth)').choices(
        ['reject', 'quarantine', 'score'],
      ),
    )
    .option(
      '--bayes <model>',
      `Bayes model written by \`mef train\` (default: ${defaultModelPath(env)} when it exists)`,
    )
    .option('--bayes-redis <url>', 'use the shared Bayes store in Redis (written by `mef train --redis`)')
    .option('--no-bayes', 'do not use a Bayes model')
    .option('--scores <file>', 'rule and Bayes scores written by `mef train --scores`')
    .option('--no-rules', 'do not run the built-in spam rules')
    .option(
      '--sa-rules <dir>',
      'run the SpamAssassin rule files of this folder natively (repeatable)',
      collect,
    )
    .option('--no-attachments', 'do not apply the banned-attachment policy')
    .option('--config <file>', 'YAML or JSON configuration (options given here override it)')
    .option('--concurrency <n>', 'messages scanned at once (default 8)', positiveInt)
    .option(
      '--workers <n>',
      `scan in this many threads, for CPU-bound runs on several cores (default 1, at most ${MAX_WORKERS})`,
      workerCount,
    )
    .option('--stage-timeout <ms>', 'per-stage timeout in ms (default 30000)', positiveInt)
    .option('--monitor', 'monitor mode: tag, never reject')
    .addHelpText(
      'after',
      `
Exit codes: 0 every message got a verdict; 1 a message could not be read, or a scanner failed
and its failure policy gave no verdict; 2 usage or configuration error.

Examples:
  mef scan message.eml
  mef scan --json ~/Maildir/cur
  cat message.eml | mef scan --ip 192.0.2.1 --from a@example.com --rcpt b@example.org -
  mef scan --clamd 127.0.0.1:3310 --rbl zen --dns 127.0.0.1:53 inbox.mbox`,
    )
    .action(async (paths: string[], flags: ScanFlags) => {
      const config = resolveConfig(await configFrom(flags), {}, env);
      const built = buildEngine(config);
      const workers = flags.workers ?? 1;
      let pool: WorkerPool | undefined;
      try {
        if (workers > 1) {
          if (!io.workerScript) throw new ConfigError('--workers: this build cannot start worker threads');
          pool = await WorkerPool.start(io.workerScript, config, workers);
        } else {
          await built.engine.start();
        }
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        throw new ConfigError(`could not start: ${(err as Error).message}`);
      }
      try {
        exit(
          await runScan({
            engine: built.engine,
            envelope: built.envelope,
            paths,
            ...(flags.ext ? { extensions: flags.ext } : {}),
            json: flags.json === true,
            concurrency: config.concurrency,
            stdout: io.stdout,
            stderr: io.stderr,
            ...(io.stdin ? { stdin: io.stdin } : {}),
            ...(io.columns ? { width: io.columns } : {}),
            ...(pool ? { pool } : {}),
          }),
        );
      } finally {
        await (pool ? pool.stop() : built.engine.stop());
      }
    });
}
