// Haraka: an instance (`haraka -i`) with plugin `mef` from node_modules and our mef.yaml.
// Accepted mail is saved by `queue/test` as $TMPDIR/mail_<uuid>.eml.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configFile, portFromEnv } from './config.js';

const require = createRequire(import.meta.url);
const haraka = join(dirname(require.resolve('Haraka/package.json')), 'bin', 'haraka');
const plugin = dirname(require.resolve('haraka-plugin-mef/package.json'));

export async function startHaraka(port = portFromEnv(2526)) {
  const dir = mkdtempSync(join(tmpdir(), 'mef-example-haraka-'));
  const init = spawn(process.execPath, [haraka, '-i', dir], { stdio: 'ignore' });
  await new Promise((resolve) => init.once('exit', resolve));
  const config = (name: string, text: string) => writeFileSync(join(dir, 'config', name), text);
  config('smtp.ini', `listen=127.0.0.1:${port}\npublic_ip=127.0.0.1\n`);
  config('plugins', 'mef\nrcpt_to.in_host_list\nqueue/test\n');
  config('host_list', 'example.test\n');
  copyFileSync(configFile, join(dir, 'config', 'mef.yaml'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(plugin, join(dir, 'node_modules', 'haraka-plugin-mef'));
  console.log(`Haraka on 127.0.0.1:${port}`);
  return spawn(process.execPath, [haraka, '-c', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
}

if (process.argv[1] === new URL(import.meta.url).pathname) (await startHaraka()).stdout?.pipe(process.stdout);
