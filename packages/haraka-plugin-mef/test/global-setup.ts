/**
 * Builds this plugin (JavaScript only) and deploys it with
 * `pnpm --filter haraka-plugin-mef deploy --legacy DIR`, as a user would, once for every test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder `pnpm deploy` made: the plugin, its dist and its node_modules. */
    deployed: string;
  }
}

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..', '..');
let dir: string | undefined;

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): void {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

export default function setup(project: TestProject): () => void {
  run('bash', [join(root, 'scripts', 'pnpm.sh'), 'run', 'build'], pkg, { MEF_BUILD_NO_DTS: '1' });
  dir = mkdtempSync(join(tmpdir(), 'mef-haraka-deploy-'));
  const target = join(dir, 'haraka-plugin-mef');
  run(
    'bash',
    [join(root, 'scripts', 'pnpm.sh'), '--filter', 'haraka-plugin-mef', 'deploy', '--legacy', target],
    root,
  );
  project.provide('deployed', target);
  return () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}
