import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addDomain, authenticate, getDomain, openStore } from '@mef/admin';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { freshHome, mef, tempDir } from './helpers.js';

const dir = tempDir();
const config = join(dir, 'mef.yaml');

beforeAll(async () => {
  // A relative database path is taken relative to the config file.
  writeFileSync(config, 'admin:\n  listen: { host: 127.0.0.1, port: 0 }\n  database: admin.db\n');
  const store = await openStore(join(dir, 'admin.db'));
  await addDomain(store, 'example.net', { destination: '127.0.0.1:2526', monitor: true });
  await store.close();
});

describe('mef admin add-user', () => {
  it('adds a domain administrator with the password from standard input', async () => {
    const r = await mef(['admin', 'add-user', 'alice', '--domain', 'example.net', '--config', config], {
      stdin: 'alice-password-1\n',
    });
    expect(r).toMatchObject({ code: 0, stdout: 'added user alice\n' });
    const store = await openStore(join(dir, 'admin.db'));
    expect(await authenticate(store, 'alice', 'alice-password-1')).toEqual({
      name: 'alice',
      operator: false,
    });
    await store.close();
  });

  it('adds an operator', async () => {
    const r = await mef(['admin', 'add-user', 'root', '--operator', '--config', config], {
      stdin: 'operator-pass-1',
    });
    expect(r).toMatchObject({ code: 0, stdout: 'added operator root\n' });
  });

  it('refuses a domain not in the store, a short password and a missing password with exit 2', async () => {
    const unknown = await mef(['admin', 'add-user', 'bob', '--domain', 'other.test', '--config', config], {
      stdin: 'bob-password-12\n',
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('domain other.test is not in the store');
    const short = await mef(['admin', 'add-user', 'bob', '--domain', 'example.net', '--config', config], {
      stdin: 'short\n',
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 10 characters');
    const none = await mef(['admin', 'add-user', 'bob', '--domain', 'example.net', '--config', config], {
      stdin: '',
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no password on standard input');
  });

  it("seeds a new store with the file's relay.domains, so a user can be given one before any relay ran", async () => {
    const seeded = join(dir, 'seeded.yaml');
    writeFileSync(
      seeded,
      [
        'admin:',
        '  listen: { host: 127.0.0.1, port: 0 }',
        '  database: seeded.db',
        'relay:',
        '  listen: { host: 127.0.0.1, port: 0 }',
        '  hostname: mx1.relay.test',
        '  domains:',
        '    seeded.test: { destination: "127.0.0.1:2526", monitor: true }',
        '',
      ].join('\n'),
    );
    const r = await mef(['admin', 'add-user', 'carol', '--domain', 'seeded.test', '--config', seeded], {
      stdin: 'carol-password-1\n',
    });
    expect(r).toMatchObject({ code: 0, stdout: 'added user carol\n' });
    const store = await openStore(join(dir, 'seeded.db'));
    expect(await getDomain(store, 'seeded.test')).toEqual({ destination: '127.0.0.1:2526', monitor: true });
    await store.close();
  });

  it('validates the admin: section with the config schema', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'admin:\n  listen: { host: 127.0.0.1, port: 99999 }\n  database: x.db\n  extra: 1\n');
    const r = await mef(['config', 'check', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('admin.listen.port');
    expect(r.stderr).toContain('admin.extra: unknown key');
  });
});

describe('mef admin --config', () => {
  it('serves the login page until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [inject('bin'), 'admin', '--config', config], {
      env: { PATH: process.env.PATH ?? '', MEF_HOME: freshHome() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    try {
      const page = await fetch(new URL('/login', url));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('name="password"');
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(stdout).toContain('"url":"/login"');
  });

  it('says so when the config has no admin: section', async () => {
    const none = join(dir, 'none.yaml');
    writeFileSync(none, 'monitor: true\n');
    const r = await mef(['admin', '--config', none]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('admin: the section is missing');
  });
});
