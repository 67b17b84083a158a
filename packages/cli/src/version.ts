/** The version of `@mef/cli` (kept equal to package.json by a test). */
export const cliVersion = '0.1.0';
