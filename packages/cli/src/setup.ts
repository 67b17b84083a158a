import { createEngine, type Engine, type EngineOptions, type ScanEnvelope } from '@mef/core/hosts';
import { type BuiltPlugins, buildPlugins } from '@mef/relay';
import {
  ConfigError,
  defaultConfig,
  type MefConfig,
  merge,
  modelExists,
  type ResolvedConfig,
} from './config.js';

export type { ResolvedConfig };

/** Defaults, then the file, then the command line: later wins. */
export function resolveConfig(
  file: MefConfig | undefined,
  cli: MefConfig,
  env = process.env,
): ResolvedConfig {
  return merge(merge(defaultConfig(env), file ?? {}), cli) as ResolvedConfig;
}

/** A plugin list and what they are, for `mef config defaults` and the table's summary. */
export interface BuiltEngine {
  readonly engine: Engine;
  readonly envelope: ScanEnvelope;
  readonly plugins: readonly string[];
  /** The Bayes model file in use, if any. */
  readonly model: string | undefined;
}

/** Builds (but does not start) the engine a resolved configuration describes. */
export function buildEngine(config: ResolvedConfig): BuiltEngine {
  const options: EngineOptions = {
    thresholds: config.thresholds,
    onError: config.onError,
    stageTimeout: config.stageTimeout,
    monitor: config.monitor,
  };
  let built: BuiltPlugins;
  try {
    built = buildPlugins(config, { exists: modelExists, probeOnce: true, greylist: false });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // A factory refused an option (TypeError naming it): a configuration error.
    if (err instanceof TypeError || (err as { code?: string }).code === 'MEF_CORE_INVALID_OPTION') {
      throw new ConfigError((err as Error).message);
    }
    throw err;
  }
  const engine = createEngine(options);
  for (const p of built.plugins) engine.use(p.plugin);
  const env = config.envelope;
  const envelope: ScanEnvelope = {
    clientAddress: env.ip ?? '127.0.0.1',
    mailFrom: env.from ?? '',
    recipients: env.rcpt ?? [],
    ...(env.helo !== undefined ? { helo: env.helo } : {}),
    ...(env.user !== undefined ? { user: env.user } : {}),
    ...(env.direction !== undefined ? { direction: env.direction } : {}),
  };
  return { engine, envelope, plugins: built.plugins.map((p) => p.plugin.name), model: built.model };
}
