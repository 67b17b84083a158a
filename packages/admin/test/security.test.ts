import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditLog, createSettingsSource, getDomain } from '../src/index.js';
import { Client } from './support/client.js';
import { type Fixture, PASSWORDS, startFixture } from './support/fixture.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture(undefined, { dns: [inject('dnsServer')] }, { loginPerUser: 3, loginPerClient: 50 });
});
afterAll(() => fx.close());

const SETTINGS = {
  destination: '127.0.0.1:2526',
  'thresholds.reject': '12',
  'thresholds.addHeader': '',
  'thresholds.greylist': 'off',
  'scanners.antivirus': 'on',
  'scanners.spam': 'on',
  'senders.allow': 'friend@partner.example\n@trusted.example',
  'senders.block': '',
  tls: 'required',
  quarantine: '',
};

describe('logging in', () => {
  it('serves GET /login as a form with username and password and a CSRF token in a strict cookie', async () => {
    const c = new Client(fx.base);
    const res = await c.get('/login');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/<form method="post" action="\/login">/);
    expect(text).toContain('name="username"');
    expect(text).toContain('name="password"');
    expect(text).toMatch(/name="_csrf" value="[A-Za-z0-9_-]{43}"/);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('answers 403 to a login form posted without its CSRF token, even with the right password', async () => {
    const c = new Client(fx.base);
    await c.get('/login');
    const res = await c.post('/login', { username: 'alice', password: PASSWORDS.alice });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().join()).not.toContain('mef_session');
  });

  it('starts a session in an HttpOnly, SameSite=Strict cookie on the right password', async () => {
    const c = new Client(fx.base);
    const res = await c.login('alice', PASSWORDS.alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/domains');
    const cookie = res.headers.getSetCookie().find((s) => s.startsWith('mef_session='));
    expect(cookie).toMatch(
      /^mef_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    expect(await (await c.get('/domains')).text()).toContain('href="/domains/a.test"');
  });

  it('refuses a wrong password with 401 and sends pages to /login without a session', async () => {
    const c = new Client(fx.base);
    expect((await c.login('alice', 'wrong-password-1')).status).toBe(401);
    const res = await c.get('/domains/a.test');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('rate-limits logins per user: after 3 failures even the right password gets 429', async () => {
    const c = new Client(fx.base);
    for (let i = 0; i < 3; i++) expect((await c.login('bob', `wrong-${i}-password`)).status).toBe(401);
    expect((await c.login('bob', PASSWORDS.bob)).status).toBe(429);
    expect((await c.login('BOB', PASSWORDS.bob)).status).toBe(429);
    // Another user from the same client is not locked out by bob's failures.
    expect((await new Client(fx.base).login('root', PASSWORDS.root)).status).toBe(303);
  });
});

describe('rate limit per client', () => {
  let other: Fixture;
  beforeAll(async () => {
    other = await startFixture(undefined, {}, { loginPerUser: 100, loginPerClient: 4 });
  });
  afterAll(() => other.close());

  it('stops a client that tries many user names', async () => {
    const c = new Client(other.base);
    for (let i = 0; i < 4; i++) expect((await c.login(`guess${i}`, 'some-password')).status).toBe(401);
    expect((await c.login('alice', PASSWORDS.alice)).status).toBe(429);
  });
});

describe('CSRF', () => {
  it('answers 403 to every form posted without its token, with a wrong one, or without a session', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const before = await getDomain(fx.store, 'a.test');
    for (const path of [
      '/domains/a.test/settings',
      '/domains/a.test/rollout/go-live',
      '/domains/a.test/rollout/firewall',
      '/logout',
      '/admin/users',
      '/admin/domains',
    ]) {
      expect((await c.post(path, { ...SETTINGS })).status, path).toBe(403);
      expect((await c.post(path, { ...SETTINGS, _csrf: 'x'.repeat(43) })).status, path).toBe(403);
    }
    const anonymous = new Client(fx.base);
    expect((await anonymous.post('/domains/a.test/settings', { ...SETTINGS, _csrf: '' })).status).toBe(403);
    expect(await getDomain(fx.store, 'a.test')).toEqual(before);
  });

  it('refuses a JSON body (forms only)', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const res = await fetch(new URL('/domains/a.test/settings', fx.base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `mef_session=${c.cookies.get('mef_session')}` },
      body: JSON.stringify({ destination: '10.0.0.1:25' }),
    });
    expect(res.status).toBe(415);
  });
});

describe('domain isolation', () => {
  it('answers 404 for every page and form of a domain that is not yours, or does not exist', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const csrf = await c.csrf('/domains/a.test');
    for (const path of [
      '/domains/b.test',
      '/domains/B.TEST',
      '/domains/b.test/traffic',
      '/domains/b.test/rollout',
      '/domains/b.test/audit',
      '/domains/none.test',
      '/domains/..%2fb.test',
      '/admin/users',
    ]) {
      const res = await c.get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('127.0.0.1:2527');
    }
    const before = await getDomain(fx.store, 'b.test');
    for (const path of [
      '/domains/b.test/settings',
      '/domains/b.test/rollout/go-live',
      '/domains/b.test/rollout/firewall',
    ]) {
      expect((await c.post(path, { ...SETTINGS, _csrf: csrf })).status, path).toBe(404);
    }
    expect(
      (await c.post('/admin/domains', { _csrf: csrf, name: 'c.test', destination: '1.2.3.4:25' })).status,
    ).toBe(404);
    expect(
      (
        await c.post('/admin/users', {
          _csrf: csrf,
          name: 'eve',
          password: 'eve-password-1',
          domains: 'b.test',
        })
      ).status,
    ).toBe(404);
    expect(await getDomain(fx.store, 'b.test')).toEqual(before);
    expect(await auditLog(fx.store, 'b.test')).toEqual([]);
  });

  it('ignores a domain named in a form field: only the domain of the URL, if yours, changes', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const csrf = await c.csrf('/domains/a.test');
    const res = await c.post('/domains/a.test/settings', {
      ...SETTINGS,
      _csrf: csrf,
      domain: 'b.test',
      name: 'b.test',
    });
    expect(res.status).toBe(303);
    expect(await getDomain(fx.store, 'b.test')).toEqual({ destination: '127.0.0.1:2527', monitor: true });
    expect((await getDomain(fx.store, 'a.test'))?.tls).toBe('required');
  });
});

describe('settings', () => {
  it('validates every field with the config schema and keeps the old settings on a bad one', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const csrf = await c.csrf('/domains/a.test');
    const before = await getDomain(fx.store, 'a.test');
    for (const bad of [
      { destination: 'nowhere' },
      { destination: '10.0.0.1:99999' },
      { 'thresholds.reject': 'lots' },
      { 'senders.block': 'not an address' },
      { tls: 'sometimes' },
      { quarantine: 'x<script>@a.test' },
    ]) {
      const res = await c.post('/domains/a.test/settings', { ...SETTINGS, ...bad, _csrf: csrf });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      const text = await res.text();
      expect(text).toContain('Not saved');
      expect(text).not.toContain('<script>');
    }
    expect(await getDomain(fx.store, 'a.test')).toEqual(before);
  });

  it('saves a change, logs it in the audit log and the relays see it within seconds', async () => {
    const source = await createSettingsSource(fx.store, { pollMs: 100 });
    try {
      const c = new Client(fx.base);
      await c.login('alice', PASSWORDS.alice);
      const csrf = await c.csrf('/domains/a.test');
      const res = await c.post('/domains/a.test/settings', {
        ...SETTINGS,
        destination: '127.0.0.1:2626',
        _csrf: csrf,
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/domains/a.test?saved=1');
      const deadline = Date.now() + 3000;
      while (source.get('a.test')?.destination !== '127.0.0.1:2626' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(source.get('a.test')).toEqual({
        destination: '127.0.0.1:2626',
        thresholds: { reject: 12, greylist: null },
        scanners: { rbl: false, greylist: false },
        senders: { allow: ['friend@partner.example', '@trusted.example'] },
        tls: 'required',
        monitor: false,
      });
      const audit = await (await c.get('/domains/a.test/audit')).text();
      expect(audit).toMatch(
        /<td>alice<\/td><td>destination<\/td><td>&quot;127.0.0.1:2526&quot;<\/td><td>&quot;127.0.0.1:2626&quot;<\/td>/,
      );
    } finally {
      source.close();
    }
  });
});

describe('the operator', () => {
  it('sees every domain, adds a domain and a user for it', async () => {
    const c = new Client(fx.base);
    await c.login('root', PASSWORDS.root);
    const list = await (await c.get('/domains')).text();
    expect(list).toContain('/domains/a.test');
    expect(list).toContain('/domains/b.test');
    const csrf = await c.csrf('/domains');
    const add = await c.post('/admin/domains', {
      _csrf: csrf,
      name: 'C.test',
      destination: '127.0.0.1:2528',
    });
    expect(add.status).toBe(303);
    expect(await getDomain(fx.store, 'c.test')).toEqual({ destination: '127.0.0.1:2528', monitor: true });
    const user = await c.post('/admin/users', {
      _csrf: csrf,
      name: 'carol',
      password: 'carol-password',
      domains: 'c.test',
    });
    expect(user.status).toBe(200);
    const carol = new Client(fx.base);
    expect((await carol.login('carol', 'carol-password')).status).toBe(303);
    expect((await carol.get('/domains/c.test')).status).toBe(200);
    expect((await carol.get('/domains/a.test')).status).toBe(404);
  });
});

describe('logs', () => {
  it('never contain a password, a session token or a CSRF token', async () => {
    const c = new Client(fx.base);
    await c.login('alice', 'a-wrong-password-xyz');
    await c.login('alice', PASSWORDS.alice);
    const csrf = await c.csrf('/domains/a.test');
    await c.get('/domains/a.test/traffic?q=someone');
    const log = fx.log();
    expect(log).toContain('"url":"/login"');
    for (const secret of [
      PASSWORDS.alice,
      PASSWORDS.bob,
      PASSWORDS.root,
      'a-wrong-password-xyz',
      c.cookies.get('mef_session') ?? 'none',
      csrf,
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it('logs out: the session cookie no longer opens a page', async () => {
    const c = new Client(fx.base);
    await c.login('alice', PASSWORDS.alice);
    const token = c.cookies.get('mef_session');
    const csrf = await c.csrf('/domains/a.test');
    expect((await c.post('/logout', { _csrf: csrf })).status).toBe(303);
    const res = await fetch(new URL('/domains/a.test', fx.base), {
      headers: { cookie: `mef_session=${token}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
  });
});
