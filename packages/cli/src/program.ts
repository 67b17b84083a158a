import type { Readable } from 'node:stream';
import { createMilterServer } from '@mef/milter';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { registerAdmin } from './admin.js';
import {
  ConfigError,
  configJsonSchema,
  configSchema,
  defaultConfig,
  defaultModelPath,
  formatIssues,
  loadConfigFile,
  type MefConfig,
  merge,
} from './config.js';
import { addDnsCommands } from './dns-commands.js';
import { addRelayCommand } from './relay-command.js';
import { runRules } from './rules.js';
import { runScan } from './scan.js';
import { buildEngine, parseListArg, resolveConfig } from './setup.js';
import { runTrain } from './train.js';
import { cliVersion } from './version.js';
import { WorkerPool } from './workers.js';

/** Where the program reads and writes: the real process, or a test's buffers. */
export interface Io {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly stdin?: Readable;
  readonly env?: NodeJS.ProcessEnv;
  readonly isTTY?: boolean;
  readonly columns?: number;
  /** The script a worker thread runs (the binary itself); `--workers` needs it. */
  readonly workerScript?: URL;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive whole number, found "${value}"`);
  }
  return n;
}

/** The most worker threads `--workers` starts: each holds an engine (about 35 MB) and its scanners. */
export const MAX_WORKERS = 16;

function workerCount(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_WORKERS)
    throw new InvalidArgumentError(`expected at most ${MAX_WORKERS} workers, found "${value}"`);
  return n;
}

function extensions(value: string): string[] {
  const list = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => (e.startsWith('.') ? e : `.${e}`));
  if (!list.length)
    throw new InvalidArgumentError(`expected extensions such as ".eml,.txt", found "${value}"`);
  return list;
}

const EXT_HELP =
  'inside directories, only files ending with these extensions (comma-separated, such as .eml,.txt)';

function share(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a share between 0 and 1, found "${value}"`);
  return n;
}

/** The scan options as a config object (so that they go through the same schema). */
interface ScanFlags {
  json?: boolean;
  ext?: string[];
  ip?: string;
  helo?: string;
  from?: string;
  rcpt?: string[];
  user?: string;
  direction?: string;
  clamd?: string[];
  spamd?: string;
  rspamd?: string;
  dns?: string[];
  rbl?: string[];
  uribl?: string[];
  auth?: boolean;
  dmarcReject?: string;
  bayes?: string | boolean;
  bayesRedis?: string;
  scores?: string;
  rules?: boolean;
  saRules?: string[];
  attachments?: boolean;
  config?: string;
  concurrency?: number;
  workers?: number;
  timeout?: number;
  monitor?: boolean;
}

/** The key path a command-line option fills, to name the option in an error. */
const FLAG_OF: Record<string, string> = {
  'envelope.ip': '--ip',
  'envelope.helo': '--helo',
  'envelope.from': '--from',
  'envelope.rcpt': '--rcpt',
  'envelope.user': '--user',
  'envelope.direction': '--direction',
  'clamav.hosts': '--clamd',
  'spamassassin.host': '--spamd',
  'rspamd.url': '--rspamd',
  'rbl.dns': '--dns',
  'rbl.lists': '--rbl',
  'rbl.uribl': '--uribl',
  'auth.dns': '--dns',
  'auth.dmarcReject': '--dmarc-reject',
  'bayes.model': '--bayes',
  'bayes.redis': '--bayes-redis',
  'rules.spamassassin': '--sa-rules',
  scores: '--scores',
};

function flagsToConfig(f: ScanFlags): Record<string, unknown> {
  const c: Record<string, Record<string, unknown> | unknown> = {};
  const envelope: Record<string, unknown> = {};
  if (f.ip !== undefined) envelope.ip = f.ip;
  if (f.helo !== undefined) envelope.helo = f.helo;
  if (f.from !== undefined) envelope.from = f.from;
  if (f.rcpt !== undefined) envelope.rcpt = f.rcpt;
  if (f.user !== undefined) envelope.user = f.user;
  if (f.direction !== undefined) envelope.direction = f.direction;
  if (Object.keys(envelope).length) c.envelope = envelope;
  if (f.clamd) c.clamav = { hosts: f.clamd };
  if (f.spamd !== undefined) c.spamassassin = { host: f.spamd };
  if (f.rspamd !== undefined) c.rspamd = { url: f.rspamd };
  const rbl: Record<string, unknown> = {};
  if (f.dns) rbl.dns = f.dns;
  if (f.rbl) rbl.lists = f.rbl.map((z) => parseListArg(z, 'rbl'));
  if (f.uribl) rbl.uribl = f.uribl.map((z) => parseListArg(z, 'uribl'));
  if (Object.keys(rbl).length) c.rbl = rbl;
  if (f.auth || f.dmarcReject !== undefined) {
    // --auth turns the SPF/DKIM/DMARC/ARC checks on; they ask the --dns servers too.
    c.auth = { ...(f.dns ? { dns: f.dns } : {}), ...(f.dmarcReject ? { dmarcReject: f.dmarcReject } : {}) };
  }
  if (typeof f.bayes === 'string') c.bayes = { enabled: true, model: f.bayes };
  else if (f.bayes === false) c.bayes = { enabled: false };
  if (f.bayesRedis !== undefined) c.bayes = { ...((c.bayes as object) ?? {}), redis: f.bayesRedis };
  if (f.scores !== undefined) c.scores = f.scores;
  if (f.rules === false) c.rules = { enabled: false };
  if (f.saRules) c.rules = { ...((c.rules as object) ?? {}), spamassassin: f.saRules };
  if (f.attachments === false) c.attachments = { enabled: false };
  if (f.concurrency !== undefined) c.concurrency = f.concurrency;
  if (f.timeout !== undefined) c.timeout = f.timeout;
  if (f.monitor) c.monitor = true;
  return c;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.filter((k) => typeof k === 'string').join('.');
}

function hasPath(obj: unknown, path: readonly PropertyKey[]): boolean {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !(k in (cur as object))) return false;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return true;
}

/** File, then command line, validated together; errors name the file or the option. */
async function configFrom(flags: ScanFlags): Promise<MefConfig> {
  const file = flags.config ? await loadConfigFile(flags.config) : {};
  const cli = flagsToConfig(flags);
  const merged = merge(file as Record<string, unknown>, cli);
  const r = configSchema.safeParse(merged);
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const fromCli =
      hasPath(cli, issue.path.slice(0, 2)) && !(issue.path.length === 1 && issue.code === 'invalid_type');
    const key = pathOf(issue.path);
    const flag = Object.entries(FLAG_OF).find(([k]) => key === k || key.startsWith(`${k}.`))?.[1];
    const where = fromCli ? `command line${flag ? ` (${flag})` : ''}` : (flags.config ?? 'config');
    return formatIssues([issue], merged, where);
  });
  // A list without a resolver: say which option is missing.
  throw new ConfigError(
    lines
      .join('\n')
      .replace(
        /rbl\.dns: expected array, found nothing/,
        'rbl.dns: expected a DNS server for the lists (--dns host:port; MEF never asks the system resolver), found nothing',
      )
      .replace(
        /auth\.dns: expected array, found nothing/,
        'auth.dns: expected a DNS server for --auth (--dns host:port; MEF never asks the system resolver), found nothing',
      ),
  );
}

/** Builds the `mef` program. `exit` receives the exit code of a command. */
export function createProgram(io: Io, exit: (code: number) => void): Command {
  const env = io.env ?? process.env;
  const program = new Command('mef')
    .description(
      'MEF, the mail filter: scan saved messages, folders, mboxes or a pipe, and train the Bayes model',
    )
    .version(cliVersion, '-V, --version', 'print the version')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(run `mef help` for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

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
    .option('--timeout <ms>', 'per-stage timeout in ms (default 30000)', positiveInt)
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

  program
    .command('train')
    .description('train the Bayes model from labelled messages (files, directories or mboxes)')
    .requiredOption('--spam <path...>', 'spam messages')
    .requiredOption('--ham <path...>', 'ham (good) messages')
    .option('--model <file>', `model file (default: ${defaultModelPath(env)}); an existing model is added to`)
    .option('--redis <url>', 'train the shared Redis store instead of a file')
    .option(
      '--scores <file>',
      'also fit the rule and Bayes scores together and write them to this file (for `mef scan --scores`)',
    )
    .option(
      '--sa-rules <dir>',
      'with --scores, also fit the scores of the SpamAssassin rule files of this folder (repeatable)',
      collect,
    )
    .option('--ext <list>', EXT_HELP, extensions)
    .addOption(
      new Option(
        '--eval [share]',
        'hold out a deterministic share (default 0.2) and report precision, recall, FPR and F1',
      ).argParser(share),
    )
    .option(
      '--min-learns <n>',
      'messages of each class before the model classifies (default 200)',
      positiveInt,
    )
    .action(
      async (flags: {
        spam: string[];
        ham: string[];
        model?: string;
        redis?: string;
        scores?: string;
        saRules?: string[];
        eval?: number | true;
        minLearns?: number;
        ext?: string[];
      }) => {
        exit(
          await runTrain({
            spam: flags.spam,
            ham: flags.ham,
            model: flags.model ?? defaultModelPath(env),
            ...(flags.redis ? { redis: flags.redis } : {}),
            ...(flags.scores ? { scores: flags.scores } : {}),
            ...(flags.saRules ? { saRules: flags.saRules } : {}),
            ...(flags.eval !== undefined ? { evalShare: flags.eval === true ? 0.2 : flags.eval } : {}),
            ...(flags.minLearns !== undefined ? { minLearns: flags.minLearns } : {}),
            ...(flags.ext ? { extensions: flags.ext } : {}),
            stdout: io.stdout,
            stderr: io.stderr,
            tty: io.isTTY === true,
          }),
        );
      },
    );

  addDnsCommands(program, io, exit);
  program
    .command('milter')
    .description('run the filter as a milter for Postfix or Sendmail, until SIGTERM or SIGINT')
    .requiredOption('--config <file>', 'YAML or JSON configuration with a `milter:` section')
    .action(async (flags: { config: string }) => {
      const file = await loadConfigFile(flags.config);
      if (!file.milter) {
        throw new ConfigError(
          `${flags.config}: milter.listen: expected a port or a socket path, found nothing`,
        );
      }
      const built = buildEngine(resolveConfig(file, {}, env));
      const milter = createMilterServer({
        engine: built.engine,
        ...(file.milter.progressInterval ? { progressInterval: file.milter.progressInterval } : {}),
      });
      let where: number | string;
      try {
        where = await milter.listen(file.milter.listen);
      } catch (err) {
        await built.engine.stop();
        throw new ConfigError(`could not start: ${(err as Error).message}`);
      }
      const host = 'host' in file.milter.listen ? (file.milter.listen.host ?? '127.0.0.1') : '';
      io.stderr(
        `mef milter: listening on ${typeof where === 'number' ? `inet:${host}:${where}` : `unix:${where}`} (${built.plugins.join(', ')})\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      await milter.close();
      await built.engine.stop();
      exit(0);
    });
  addRelayCommand(program, io, exit);
  program
    .command('rules')
    .description('list the SpamAssassin rules that load natively, and those skipped with the reason')
    .option(
      '--sa-rules <dir>',
      'folder of SpamAssassin .cf files (repeatable; default: the installed rules)',
      collect,
    )
    .option('--config <file>', 'YAML or JSON configuration (its rules.spamassassin is used)')
    .option('--json', 'as JSON')
    .action(async (flags: { saRules?: string[]; config?: string; json?: boolean }) => {
      const fromFile = (await configFrom({ ...(flags.config ? { config: flags.config } : {}) })).rules
        ?.spamassassin;
      exit(
        runRules({
          dirs: flags.saRules ?? fromFile,
          json: flags.json === true,
          stdout: io.stdout,
          stderr: io.stderr,
        }),
      );
    });

  const config = program.command('config').description('print or check the configuration');
  config
    .command('schema')
    .description('print the JSON Schema of the config file')
    .action(() => {
      io.stdout(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      exit(0);
    });
  config
    .command('check')
    .description('validate a config file (exit 0 when valid, 2 when not)')
    .argument('<file>', 'YAML or JSON file')
    .action(async (file: string) => {
      await loadConfigFile(file);
      io.stdout(`${file}: valid\n`);
      exit(0);
    });
  config
    .command('defaults')
    .description('print the built-in defaults (what `mef scan` uses with no options)')
    .option('--json', 'as JSON instead of YAML')
    .action((flags: { json?: boolean }) => {
      const d = defaultConfig(env);
      io.stdout(flags.json ? `${JSON.stringify(d, null, 2)}\n` : toYaml(d));
      exit(0);
    });
  registerAdmin(program, io, exit);
  return program;
}

/** Runs `mef` with `argv` (user arguments only); resolves with the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let code = 0;
  const program = createProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; help shown for a missing command, and every parse
      // error, is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigError) {
      io.stderr(`mef: ${err.message.split('\n').join('\nmef: ')}\n`);
      return 2;
    }
    io.stderr(`mef: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
