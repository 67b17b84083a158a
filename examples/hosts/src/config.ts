import { fileURLToPath } from 'node:url';
import { buildEngine, loadConfigFile, resolveConfig } from '@mef/cli';

/** The example's config file, shared by the three hosts. */
export const configFile = fileURLToPath(new URL('../mef.yaml', import.meta.url));

/** Builds the engine the config file describes, as `mef scan` and `mef milter` do. */
export async function engineFromConfig(file = configFile) {
  const config = await loadConfigFile(file);
  return { config, engine: buildEngine(resolveConfig(config, {})).engine };
}

/** `PORT=2525 pnpm ...`: the port to listen on, else the default. */
export function portFromEnv(fallback: number): number {
  return process.env.PORT ? Number(process.env.PORT) : fallback;
}
