import type { Readable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { registerAdmin } from './admin.js';
import { ConfigError, configJsonSchema, defaultConfig, defaultModelPath, loadConfigFile } from './config.js';
import { addDnsCommands } from './dns-commands.js';
import { addMilterCommand } from './milter-command.js';
import { collect, EXT_HELP, extensions, positiveInt, share } from './options.js';
import { addRelayCommand } from './relay-command.js';
import { runRules } from './rules.js';
import { addScanCommand } from './scan-command.js';
import { configFrom } from './scan-flags.js';
import { runTrain } from './train.js';
import { cliVersion } from './version.js';

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

  addScanCommand(program, io, exit);
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
  addMilterCommand(program, io, exit);
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
