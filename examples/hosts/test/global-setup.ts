import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const r = spawnSync(
    'bash',
    [join(root, 'scripts', 'pnpm.sh'), '--filter', 'haraka-plugin-mef', 'run', 'build'],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MEF_BUILD_NO_DTS: '1' },
      timeout: 300_000,
    },
  );
  if (r.status !== 0) throw new Error(`building haraka-plugin-mef failed:\n${r.stdout}\n${r.stderr}`);
}
