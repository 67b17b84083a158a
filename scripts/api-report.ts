/**
 * The API report: what each published package exports, one `api/<package>.api.md` per entry
 * point, written by API Extractor from the built declaration files. A change to a public
 * surface shows up in review as a change of its report.
 *
 *   pnpm api:report   builds, then rewrites the reports
 *   pnpm check:api    fails when a built surface differs from its checked-in report (CI)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel, type IConfigFile } from '@microsoft/api-extractor';
import { publishedPackages } from './pack/packages.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const reportFolder = join(root, 'api');
const tempFolder = join(root, '.tmp', 'api');

/** The `types` file of each entry point of a package.json's `exports` (not package.json). */
function entryTypes(dir: string): { subpath: string; types: string }[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports: Record<string, { import?: { types?: string } } | string>;
  };
  const out: { subpath: string; types: string }[] = [];
  for (const [subpath, value] of Object.entries(manifest.exports)) {
    if (typeof value === 'string' || !value.import?.types) continue;
    out.push({ subpath, types: value.import.types });
  }
  return out;
}

/** `@mef/core` + `./testing` -> `mef-core-testing`. */
function reportName(name: string, subpath: string): string {
  const base = name.replace(/^@/, '').replace('/', '-');
  return subpath === '.' ? base : `${base}-${subpath.slice(2).replace(/\//g, '-')}`;
}

mkdirSync(reportFolder, { recursive: true });
mkdirSync(tempFolder, { recursive: true });
const changed: string[] = [];
for (const pkg of publishedPackages(root)) {
  for (const entry of entryTypes(pkg.dir)) {
    const name = reportName(pkg.name, entry.subpath);
    const configObject: IConfigFile = {
      projectFolder: pkg.dir,
      mainEntryPointFilePath: join(pkg.dir, entry.types),
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2023'],
            types: ['node'],
            strict: true,
            skipLibCheck: true,
          },
          include: [entry.types],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${name}.api.md`,
        reportFolder,
        reportTempFolder: tempFolder,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // Findings about the surface go into the report itself, where review sees them.
        // A type used by the surface but not exported (ae-forgotten-export) is one of them.
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          // Release tags and doc coverage are not what the report is for: noise in every entry.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      },
    };
    const config = ExtractorConfig.prepare({
      configObject,
      configObjectFullPath: undefined,
      packageJsonFullPath: join(pkg.dir, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
    if (result.apiReportChanged) changed.push(`api/${name}.api.md`);
    if (result.errorCount > 0) {
      console.error(`${pkg.name} ${entry.subpath}: API Extractor found ${result.errorCount} errors`);
      process.exitCode = 1;
    }
  }
}
if (check && changed.length > 0) {
  console.error(
    `The public API changed without its report: ${changed.join(', ')}.\n` +
      'Run `pnpm api:report` and commit the reports under api/ (review what changed).',
  );
  process.exitCode = 1;
} else if (!check) {
  console.log(changed.length ? `updated: ${changed.join(', ')}` : 'API reports unchanged');
}
