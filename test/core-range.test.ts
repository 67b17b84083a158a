/**
 * The `@mef/core` range a plugin declares to the engine is written once: in its package.json as
 * the peer dependency (read by `src/core-range.ts`), a real range that npm installs by and that
 * the current core satisfies; no plugin source writes a range of its own.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { satisfies, validRange } from 'semver';
import { describe, expect, it } from 'vitest';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')) as {
    version: string;
    peerDependencies?: Record<string, string>;
  };
const coreVersion = manifest('core').version;
const plugins = readdirSync(packages).filter((d) => d.startsWith('plugin-'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe.each(plugins)('%s', (dir) => {
  it('declares @mef/core as a peer with a range the current core satisfies', () => {
    const range = manifest(dir).peerDependencies?.['@mef/core'] ?? '';
    expect(validRange(range), range).not.toBeNull();
    expect(satisfies(coreVersion, range)).toBe(true);
  });

  it('writes no core range in its sources but reads CORE_RANGE', () => {
    const literal = sources(join(packages, dir, 'src')).filter((f) =>
      /\bcore:\s*['"`]/.test(readFileSync(f, 'utf8')),
    );
    expect(literal).toEqual([]);
    expect(readFileSync(join(packages, dir, 'src', 'core-range.ts'), 'utf8')).toContain(
      "pkg.peerDependencies['@mef/core']",
    );
  });
});
