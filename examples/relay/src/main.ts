/**
 * A host that embeds the MEF relay: the filters of the config file (the same as `mef scan`'s)
 * plus one stage of our own, which stamps the relay's name on every message it passes.
 *
 *   pnpm --filter @mef/example-relay start relay.json
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from '@mef/core';
import { createRelay, type Relay, type RelayConfigInput } from '@mef/relay';

/** Our own plugin: one header on every message the relay hands on. */
export function stampPlugin(name: string): Plugin {
  return {
    name: 'example-stamp',
    message(ctx) {
      ctx.findings.addHeader('X-Example-Relay', name);
    },
  };
}

/** Builds the relay from a configuration object, with the stamp plugin after the built-in ones. */
export function exampleRelay(config: RelayConfigInput): Relay {
  return createRelay(config, { plugins: [stampPlugin(config.relay.hostname ?? 'relay')] });
}

async function main(file: string): Promise<void> {
  const relay = exampleRelay(JSON.parse(await readFile(file, 'utf8')) as RelayConfigInput);
  const { smtp } = await relay.listen();
  console.log(`relay listening on port ${smtp}`);
  const stop = () => void relay.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  void main(process.argv[2] ?? 'relay.json');
}
