import { errorDocsSuite } from '@mef/core/testing';
import { describe, it } from 'vitest';
import { rblErrorCodes } from '../src/index.js';

errorDocsSuite({ describe, it }, '@mef/plugin-rbl', {
  codes: rblErrorCodes,
  packageDir: new URL('..', import.meta.url),
});
