import { request } from 'node:https';
import { selfSignedCert, type TestCertificate } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from './support/fixture.js';

let cert: TestCertificate | undefined;
let fx: Fixture;

beforeAll(async () => {
  cert = selfSignedCert('127.0.0.1');
  fx = await startFixture(undefined, { tls: { cert: cert.cert, key: cert.key } });
});

afterAll(async () => {
  await fx?.close();
  cert?.remove();
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
