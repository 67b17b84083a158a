import { availableParallelism } from 'node:os';
import type { ThreadPool } from '@mef/core/hosts';
import { createMilterServer } from '@mef/milter';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from './config.js';
import { engineThreads, threadCount } from './engine-thread.js';
import type { Io } from './program.js';
import { buildEngine, resolveConfig } from './setup.js';

/** `mef milter --config FILE`: the filter as a milter for Postfix or Sendmail, until SIGTERM or SIGINT. */
export function addMilterCommand(program: Command, io: Io, exit: (code: number) => void): void {
  const env = io.env ?? process.env;
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
      const config = resolveConfig(file, {}, env);
      const built = buildEngine(config);
      // The message phase in worker threads, when no stage acts before the message.
      const early = (['connect', 'helo', 'mailFrom', 'rcptTo'] as const).some(
        (p) => built.engine.stagesAt(p).length > 0,
      );
      const size = early || !io.workerScript ? 0 : threadCount(file.milter.threads, availableParallelism());
      const threads: ThreadPool | undefined =
        size > 0 && io.workerScript ? engineThreads(io.workerScript, config, size) : undefined;
      const milter = createMilterServer({
        engine: built.engine,
        ...(threads ? { threads } : {}),
        ...(file.milter.progressInterval ? { progressInterval: file.milter.progressInterval } : {}),
        ...(file.milter.replyAt ? { replyAt: file.milter.replyAt } : {}),
      });
      let where: number | string;
      try {
        where = await milter.listen(file.milter.listen);
      } catch (err) {
        await threads?.stop();
        await built.engine.stop();
        throw new ConfigError(`could not start: ${(err as Error).message}`);
      }
      const host = 'host' in file.milter.listen ? (file.milter.listen.host ?? '127.0.0.1') : '';
      io.stderr(
        `mef milter: listening on ${typeof where === 'number' ? `inet:${host}:${where}` : `unix:${where}`} (${built.plugins.join(', ')}; the message phase ${threads ? `in ${size} thread${size > 1 ? 's' : ''}` : 'on the event loop'})\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      await milter.close();
      await threads?.stop();
      await built.engine.stop();
      exit(0);
    });
}
