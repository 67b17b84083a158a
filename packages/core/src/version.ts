/** The version of `@mef/core`; plugins declare a semver range that must include it. */
export const coreVersion = '0.1.0';
