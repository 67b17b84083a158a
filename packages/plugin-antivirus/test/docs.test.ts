import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorDocsSuite, missingReadmeExports, readmeApiNames } from '@mef/core/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { antivirusErrorCodes, bannedSymbols, clamavSymbols } from '../src/index.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));

errorDocsSuite({ describe, it }, '@mef/plugin-antivirus', {
  codes: antivirusErrorCodes,
  packageDir: new URL('..', import.meta.url),
});

describe('README', () => {
  it('lists every symbol with its default score', async () => {
    const text = await readFile(readme, 'utf8');
    const rows = new Map(
      [...text.matchAll(/^\| `([A-Z_]+)` \| [a-z-]+ \| ([\d.]+) \|/gm)].map(
        (m) => [m[1], Number(m[2])] as const,
      ),
    );
    const all: Record<string, number> = { ...clamavSymbols, ...bannedSymbols };
    expect(Object.fromEntries(rows)).toEqual(all);
  });

  it('names only exports that exist', async () => {
    const text = await readFile(readme, 'utf8');
    const section = { to: '### How the clamav plugin streams', pattern: /^\| `([A-Za-z_]+)/gm };
    expect(readmeApiNames(text, section).length).toBeGreaterThan(5);
    expect(missingReadmeExports(text, api, section)).toEqual([]);
  });
});

describe('factory options', () => {
  it('throw a TypeError naming the option and quoting the value', () => {
    expect(() => api.clamav({ mode: 'all' as never })).toThrow(/Invalid option mode: .*"all"/);
    expect(() => api.clamav({ hosts: [] })).toThrow(/hosts/);
    expect(() => api.clamav({ hosts: ['nope'] })).toThrow(/Invalid option hosts: .*"nope"/);
    expect(() => api.clamav({ hosts: ['127.0.0.1:99999'] })).toThrow(/hosts/);
    expect(() => api.clamav({ maxSize: -1 })).toThrow(/maxSize/);
    expect(() => api.clamav({ onError: 'ignore' as never })).toThrow(/onError/);
    expect(() => api.clamav({ scannedHeader: 'a\r\nb' })).toThrow(/scannedHeader/);
    let thrown: unknown;
    try {
      api.clamav({ scanTimeout: 0 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as { code?: string }).code).toBe('MEF_CORE_INVALID_OPTION');
  });

  it('parse every documented host form', () => {
    expect(api.parseClamdAddress('127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(api.parseClamdAddress('tcp://clamd.internal:3310')).toEqual({
      host: 'clamd.internal',
      port: 3310,
    });
    expect(api.parseClamdAddress('[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(api.parseClamdAddress('/run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' });
    expect(api.parseClamdAddress('unix:/tmp/c.sock')).toEqual({ path: '/tmp/c.sock' });
    expect(api.parseClamdAddress({ host: 'h', port: 1 })).toEqual({ host: 'h', port: 1 });
  });

  it('give plugins with the documented names, core range and failure policy', () => {
    const c = api.clamav({ hosts: ['127.0.0.1:3310'] });
    expect(c).toMatchObject({ name: 'clamav', core: '^0.1.0', onError: 'tempfail' });
    expect(api.clamav({ hosts: ['127.0.0.1:3310'], onError: 'accept', name: 'clamav-2' })).toMatchObject({
      name: 'clamav-2',
      onError: 'accept',
    });
    expect(api.bannedAttachments()).toMatchObject({ name: 'banned-attachments', core: '^0.1.0' });
  });
});
