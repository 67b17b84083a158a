/**
 * A scratch npm project outside the workspace that installs packed tarballs with plain npm, as a
 * user would, and the checks run in it: every file a package.json points at is in the package,
 * every entry loads with `import` and with `require` and offers the same names, a real scan runs.
 * Each check returns the problems it found (an empty list is a pass), so the self-test can show
 * that a broken package is caught.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package.json fields the checks read. */
interface Manifest {
  readonly name: string;
  readonly main?: string;
  readonly module?: string;
  readonly types?: string;
  readonly bin?: string | Record<string, string>;
  readonly exports?: unknown;
}

/** Export conditions that are not for users: the workspace's own source condition. */
const WORKSPACE_CONDITIONS = new Set(['@mef/source']);

/** The environment for npm and node without the variables pnpm sets for the test run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

/** Runs a command in the project; returns its status and output. */
export function exec(
  cwd: string,
  command: string,
  args: readonly string[],
  timeoutMs = 120_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: timeoutMs });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}

/**
 * Creates the project in `dir` and installs the tarballs with npm. Dependencies come from the
 * registry through the user's npm cache (`--prefer-offline`: a second run needs no network).
 * `--ignore-scripts`: no native build (better-sqlite3 compiles from source for minutes; the
 * workspace install builds it), and nothing here loads it.
 */
export function installTarballs(dir: string, tarballs: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'mef-install-check', private: true })}\n`,
  );
  const r = exec(
    dir,
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      '--loglevel=error',
      ...tarballs,
    ],
    600_000,
  );
  if (r.status !== 0) throw new Error(`npm install failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** The installed manifest of a package. */
function manifestOf(dir: string, name: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as Manifest;
}

/** Every file an `exports` value points at, with the conditions that lead to it. */
function exportTargets(value: unknown, conditions: string[] = []): { path: string; conditions: string[] }[] {
  if (typeof value === 'string') return [{ path: value, conditions }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) =>
    WORKSPACE_CONDITIONS.has(key)
      ? []
      : exportTargets(v, key.startsWith('.') ? conditions : [...conditions, key]),
  );
}

/**
 * The files the installed package.json points at (`main`, `module`, `bin`, `exports`, and the
 * types when `types` is true) that the package lacks.
 */
export function missingFiles(dir: string, name: string, options: { types: boolean }): string[] {
  const m = manifestOf(dir, name);
  const files: string[] = [];
  if (m.main) files.push(m.main);
  if (m.module) files.push(m.module);
  if (options.types && m.types) files.push(m.types);
  if (typeof m.bin === 'string') files.push(m.bin);
  else if (m.bin) files.push(...Object.values(m.bin));
  for (const t of exportTargets(m.exports)) {
    if (!options.types && (t.conditions.includes('types') || /\.d\.[cm]?ts$/.test(t.path))) continue;
    if (t.path.includes('*')) continue;
    files.push(t.path);
  }
  const pkgDir = join(dir, 'node_modules', name);
  return [...new Set(files)].filter((f) => !existsSync(join(pkgDir, f))).map((f) => `${name}: missing ${f}`);
}

/** The import specifiers of a package: its name and each subpath of `exports` (not package.json). */
export function entryPoints(dir: string, name: string): string[] {
  const m = manifestOf(dir, name);
  if (!m.exports || typeof m.exports !== 'object') return [name];
  return Object.keys(m.exports)
    .filter((k) => k.startsWith('.') && k !== './package.json' && !k.includes('*'))
    .map((k) => (k === '.' ? name : `${name}/${k.slice(2)}`));
}

/** What loading one entry gave: its export names, or the error. */
interface Loaded {
  readonly spec: string;
  readonly esm: string[] | string;
  readonly cjs: string[] | string;
}

const LOADER = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = [];
const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort();
for (const spec of JSON.parse(process.argv[2])) {
  const r = { spec };
  try { r.esm = names(await import(spec)); } catch (e) { r.esm = String(e && e.message || e).split('\\n')[0]; }
  try { r.cjs = names(require(spec)); } catch (e) { r.cjs = String(e && e.message || e).split('\\n')[0]; }
  out.push(r);
}
console.log(JSON.stringify(out));
`;

/**
 * Loads every entry with `import` and with `require` in the project (each in a fresh node):
 * an entry that fails to load, exports nothing, or offers other names to CommonJS than to ESM
 * is a problem.
 */
export function loadProblems(dir: string, specs: readonly string[]): string[] {
  writeFileSync(join(dir, 'load-entries.mjs'), LOADER);
  const r = exec(dir, process.execPath, ['load-entries.mjs', JSON.stringify(specs)]);
  if (r.status !== 0) return [`loading the entries failed (${r.status}): ${r.stderr}`];
  const problems: string[] = [];
  for (const l of JSON.parse(r.stdout) as Loaded[]) {
    if (typeof l.esm === 'string') problems.push(`${l.spec}: import failed: ${l.esm}`);
    if (typeof l.cjs === 'string') problems.push(`${l.spec}: require failed: ${l.cjs}`);
    if (typeof l.esm === 'string' || typeof l.cjs === 'string') continue;
    if (l.esm.length === 0) problems.push(`${l.spec}: exports nothing`);
    if (l.esm.join() !== l.cjs.join()) {
      problems.push(`${l.spec}: import and require differ: [${l.esm.join()}] vs [${l.cjs.join()}]`);
    }
  }
  return problems;
}
