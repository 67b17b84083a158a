import pkg from '../package.json' with { type: 'json' };

/**
 * The `@mef/core` versions this package's plugins work with: its peer dependency range, so the
 * range is written once (package.json) and the engine checks the same range npm installs by.
 */
export const CORE_RANGE: string = pkg.peerDependencies['@mef/core'];
