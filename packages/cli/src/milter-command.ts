import { createMilterServer } from '@mef/milter';
import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from './config.js';
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
      const built = buildEngine(resolveConfig(file, {}, env));
      const milter = createMilterServer({
        engine: built.engine,
        ...(file.milter.progressInterval ? { progressInterval: file.milter.progressInterval } : {}),
        ...(file.milter.replyAt ? { replyAt: file.milter.replyAt } : {}),
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
}
