import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

// file-type is ESM only: it stays a dynamic import() in the CommonJS build too.
export default defineConfig(library({ external: ['@mef/core', 'file-type', 'yauzl'] }));
