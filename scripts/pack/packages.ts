/**
 * The published packages of the workspace, built and packed as a release would: `pnpm pack`
 * rewrites the `workspace:` ranges and keeps only what `files` lists. Used by `pnpm pack:all`
 * and by the install test (test/install), which runs it on a copy of the workspace.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** A package that is published (its package.json is not `private`). */
export interface PublishedPackage {
  readonly name: string;
  readonly version: string;
  /** Absolute folder. */
  readonly dir: string;
}

/** Every non-private package under `<root>/packages`, sorted by folder. */
export function publishedPackages(root: string): PublishedPackage[] {
  const out: PublishedPackage[] = [];
  for (const entry of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, 'packages', entry.name);
    let manifest: { name?: string; version?: string; private?: boolean };
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.private || !manifest.name || !manifest.version) continue;
    out.push({ name: manifest.name, version: manifest.version, dir });
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Runs a command; throws with its output when it fails. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): string {
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit ${r.status ?? r.signal}`;
    throw new Error(
      `${command} ${args.join(' ')} (in ${options.cwd}) failed: ${why}\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * Builds one package with its tsup config. `types: false` skips the declaration build (the
 * slow part; publint and attw check the types of the real build).
 */
export function buildPackage(pkg: PublishedPackage, options: { tsup: string; types: boolean }): void {
  const env = { ...process.env, ...(options.types ? {} : { MEF_BUILD_NO_DTS: '1' }) };
  run(process.execPath, [options.tsup], { cwd: pkg.dir, env });
}

/** Packs one package with `pnpm pack` into `dest`; returns the tarball's path. */
export function packPackage(pkg: PublishedPackage, options: { pnpm: string; dest: string }): string {
  const out = run('bash', [options.pnpm, 'pack', '--pack-destination', options.dest], { cwd: pkg.dir });
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.trim().endsWith('.tgz'));
  if (!line) throw new Error(`pnpm pack printed no tarball for ${pkg.name}:\n${out}`);
  return join(options.dest, basename(line.trim()));
}
