import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from './support/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'mef-admin-tls-'));
let fx: Fixture;

beforeAll(async () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error?.message}`);
  fx = await startFixture(undefined, { tls: { cert, key } });
});

afterAll(async () => {
  await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(url: string): Promise<{ status: number; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    // The test certificate is self-signed: trust it for this request only.
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the interface over TLS', () => {
  it('serves HTTPS from the configured certificate and marks its cookies Secure', async () => {
    expect(fx.base).toMatch(/^https:\/\//);
    const res = await get(`${fx.base}/login`);
    expect(res.status).toBe(200);
    expect(res.cookies[0]).toMatch(
      /^mef_login=[A-Za-z0-9_-]{43}; Path=\/login; HttpOnly; SameSite=Strict; Secure$/,
    );
  });
});
