// The import rules of docs/architecture.md ("Folders and what each may import"), checked by
// `pnpm check:imports` (in .ci/run). test/import-rules/ shows that each rule fails on a bad import.

/** Folders of the published packages by layer. */
const CORE = '^packages/core/';
const PLUGINS = '^packages/plugin-[^/]+/';
const HOSTS = '^packages/(milter|smtp-server|haraka-plugin-mef|relay|cli|admin)/';
/** Code that ships in a package. */
/** Code that ships in a package (test-servers is private: it is test code). */
const SHIPPED = '^packages/(?!test-servers/)[^/]+/src/';
/** Ways a package can declare a dependency. */
const DECLARED = ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-bundled'];
/** The workspace's shared tools, declared once in the root package.json. */
const ROOT_TOOLS = `node_modules/(${Object.keys(require('./package.json').devDependencies)
  .map((n) => n.replace(/[.+]/g, '\\$&'))
  .join('|')})/`;
/** Where the test-server starters may be used: tests, benchmarks and examples. */
const TEST_CODE = '^(packages/[^/]+/(test|scripts)/|packages/test-servers/|bench/|examples/|test/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-package',
      comment: 'Core knows no plugin and no host: it imports no other workspace package.',
      severity: 'error',
      from: { path: CORE },
      to: { path: '^(packages|examples|bench)/', pathNot: CORE },
    },
    {
      name: 'plugin-imports-no-plugin',
      comment: 'A plugin imports no other plugin: what two plugins share belongs in core.',
      severity: 'error',
      from: { path: '^packages/(plugin-[^/]+)/' },
      to: { path: PLUGINS, pathNot: '^packages/$1/' },
    },
    {
      name: 'plugin-imports-no-host',
      comment: 'A plugin imports no host (relay, cli, milter, smtp-server, Haraka plugin, admin).',
      severity: 'error',
      from: { path: PLUGINS },
      to: { path: HOSTS },
    },
    {
      name: 'no-relative-import-across-packages',
      comment:
        "No file reaches into another package's folders (src/, test/, scripts/) by a relative path: " +
        'import the other package by its name.',
      severity: 'error',
      from: { path: '^(packages|examples)/([^/]+)/' },
      to: {
        dependencyTypes: ['local'],
        path: '^(packages|examples|bench)/',
        pathNot: '^$1/$2/',
      },
    },
    {
      name: 'no-relative-import-from-bench',
      comment: "The benchmarks import the packages by name, not another folder's files.",
      severity: 'error',
      from: { path: '^bench/' },
      to: { dependencyTypes: ['local'], path: '^(packages|examples)/' },
    },
    {
      name: 'test-servers-only-in-tests',
      comment: '@mef/test-servers (real servers on loopback) is for tests, benchmarks and examples only.',
      severity: 'error',
      from: { pathNot: TEST_CODE },
      to: { path: '^packages/test-servers/' },
    },
    {
      name: 'dependency-declared',
      comment: "Every package shipped code imports is declared in its package's package.json.",
      severity: 'error',
      from: { path: SHIPPED },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'], dependencyTypesNot: DECLARED },
    },
    {
      name: 'test-dependency-declared',
      comment:
        "Every package a test, config or benchmark imports is declared in its package's package.json, " +
        "or is one of the workspace's tools (the root package.json's devDependencies: vitest, tsup...).",
      severity: 'error',
      from: { path: '^(packages|examples|bench)/', pathNot: SHIPPED },
      to: {
        dependencyTypes: ['npm-no-pkg', 'npm-unknown'],
        dependencyTypesNot: DECLARED,
        pathNot: ROOT_TOOLS,
      },
    },
    {
      name: 'src-imports-no-dev-dependency',
      comment: 'Shipped code imports no package declared only as a devDependency: it would not be installed.',
      severity: 'error',
      from: { path: SHIPPED },
      to: {
        dependencyTypes: ['npm-dev'],
        dependencyTypesNot: ['type-only', 'npm', 'npm-peer', 'npm-optional'],
      },
    },
    {
      name: 'not-resolvable',
      comment: 'Every import resolves (a typo, or a package that is not installed).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    exclude: {
      path: '^(?!.*node_modules/).*(dist|\\.tsbuild|coverage)/|^test/import-rules/fixtures/|^test/install/app/',
    },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@mef/source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main'],
    },
  },
};
