import { defineConfig } from 'tsup';
import { library } from '../../tsup.base.js';

export default defineConfig(
  library({
    entry: {
      index: 'src/index.ts',
      'hosts/index': 'src/hosts/index.ts',
      'testing/index': 'src/testing/index.ts',
    },
    tsconfig: 'tsconfig.build.json',
    external: ['vitest'],
  }),
);
