import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreErrorCodes, invalidOption, MefError } from '../src/index.js';
import { compareErrorDocs } from '../src/testing/index.js';

describe('error codes', () => {
  it('docs/reference/errors.md lists exactly the codes the core defines', async () => {
    const diff = await compareErrorDocs(
      join(__dirname, '../../../docs/reference/errors.md'),
      '@mef/core',
      coreErrorCodes,
    );
    expect(diff).toEqual({ undocumented: [], unknown: [] });
  });

  it('every error keeps its code and cause', () => {
    const cause = new Error('socket closed');
    const e = new MefError('MEF_CORE_TIMEOUT', 'slow', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('MEF_CORE_TIMEOUT');
    expect(e.cause).toBe(cause);
  });

  it('invalidOption names the option and quotes the value', () => {
    const e = invalidOption('timeout', 'soon', 'a number of milliseconds');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('Invalid option timeout: expected a number of milliseconds, got "soon"');
    expect((e as TypeError & { code: string }).code).toBe('MEF_CORE_INVALID_OPTION');
  });
});
