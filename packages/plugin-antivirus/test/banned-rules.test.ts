import { describe, expect, it } from 'vitest';
import {
  checkFileName,
  checkMimeType,
  checkRealType,
  compileRules,
  extensionsOf,
} from '../src/banned/rules.js';

const rules = compileRules({});
const symbols = (name: string) => checkFileName(rules, name).map((h) => h.symbol);

describe('file name rules', () => {
  it('bans executable extensions, in any case, with trailing dots and blanks dropped', () => {
    expect(symbols('setup.exe')).toEqual(['BANNED_EXTENSION']);
    expect(symbols('SETUP.EXE')).toEqual(['BANNED_EXTENSION']);
    expect(symbols('evil.scr. . ')).toEqual(['BANNED_EXTENSION']);
    expect(symbols('folder/sub\\run.vbs')).toEqual(['BANNED_EXTENSION']);
  });

  it('passes ordinary documents and names without an extension', () => {
    expect(symbols('report.pdf')).toEqual([]);
    expect(symbols('photo.2024.jpg')).toEqual([]);
    expect(symbols('README')).toEqual([]);
    expect(symbols('.exe.txt')).toEqual([]);
  });

  it('flags double extensions such as invoice.pdf.exe', () => {
    expect(symbols('invoice.pdf.exe')).toEqual(['BANNED_EXTENSION', 'BANNED_DOUBLE_EXTENSION']);
    expect(checkFileName(rules, 'Invoice.PDF.scr')[1]?.detail).toBe('.pdf.scr');
    // A version number is not a decoy.
    expect(symbols('tool-1.2.exe')).toEqual(['BANNED_EXTENSION']);
  });

  it('flags a long run of blanks before the extension', () => {
    expect(symbols(`document.pdf${' '.repeat(40)}.exe`)).toContain('BANNED_DOUBLE_EXTENSION');
    expect(symbols(`photo${' '.repeat(30)}.scr`)).toEqual(['BANNED_EXTENSION', 'BANNED_DOUBLE_EXTENSION']);
    expect(symbols(`photo${'\u3000'.repeat(8)}.scr`)).toContain('BANNED_DOUBLE_EXTENSION');
    expect(symbols('photo  .scr')).toEqual(['BANNED_EXTENSION']);
  });

  it('flags a right-to-left override that hides the real extension', () => {
    expect(symbols('invoice\u202Efdp.exe')).toEqual(['BANNED_EXTENSION', 'BANNED_DOUBLE_EXTENSION']);
  });

  it('lets allow rules override: by extension and by file name', () => {
    const r = compileRules({ allow: { extensions: ['msi'], fileNames: [/^approved-.*\.exe$/i] } });
    expect(checkFileName(r, 'package.msi')).toEqual([]);
    expect(checkFileName(r, 'approved-tool.exe')).toEqual([]);
    expect(checkFileName(r, 'other.exe').map((h) => h.symbol)).toEqual(['BANNED_EXTENSION']);
  });

  it('uses a custom list when given', () => {
    const r = compileRules({ extensions: ['.docm'] });
    expect(checkFileName(r, 'a.docm').map((h) => h.symbol)).toEqual(['BANNED_EXTENSION']);
    expect(checkFileName(r, 'a.exe')).toEqual([]);
  });

  it('splits extensions as Windows does', () => {
    expect(extensionsOf('a.tar.gz')).toMatchObject({ last: 'gz', inner: 'tar' });
    expect(extensionsOf('noext')).toMatchObject({ last: undefined });
  });
});

describe('MIME type and real type rules', () => {
  it('bans declared executable types, exact or by wildcard, with allow overrides', () => {
    expect(checkMimeType(rules, 'application/x-msdownload').map((h) => h.symbol)).toEqual([
      'BANNED_MIME_TYPE',
    ]);
    expect(checkMimeType(rules, 'application/pdf')).toEqual([]);
    const r = compileRules({
      mimeTypes: ['application/x-*'],
      allow: { mimeTypes: ['application/x-zip-compressed'] },
    });
    expect(checkMimeType(r, 'application/x-sh')).toHaveLength(1);
    expect(checkMimeType(r, 'application/x-zip-compressed')).toEqual([]);
  });

  it('bans executables by magic bytes, with allow overrides', () => {
    expect(checkRealType(rules, 'exe').map((h) => h.symbol)).toEqual(['BANNED_REAL_TYPE']);
    expect(checkRealType(rules, 'pdf')).toEqual([]);
    expect(checkRealType(compileRules({ allow: { realTypes: ['exe'] } }), 'exe')).toEqual([]);
  });
});
