import { errorDocsSuite } from '@mef/core/testing';
import { describe, it } from 'vitest';
import { authErrorCodes } from '../src/index.js';

errorDocsSuite({ describe, it }, '@mef/plugin-auth', {
  codes: authErrorCodes,
  packageDir: new URL('..', import.meta.url),
});
