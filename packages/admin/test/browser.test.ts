import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createSettingsSource,
  getDomain,
  recordTransaction,
  type StoreSettingsSource,
} from '../src/index.js';
import { type Fixture, PASSWORDS, startFixture } from './support/fixture.js';

const CHROMIUM = '/usr/bin/chromium';
// `MEF_UPDATE_SCREENSHOTS=1` writes the pictures the docs show; otherwise they go to a temp folder.
const shots = process.env.MEF_UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '..', '..', '..', 'docs', 'admin')
  : mkdtempSync(join(tmpdir(), 'mef-admin-shots-'));

let fx: Fixture;
let browser: Browser;
let source: StoreSettingsSource;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      'chromium is not installed (apt-get install chromium); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  mkdirSync(shots, { recursive: true });
  fx = await startFixture(undefined, {
    dns: [inject('dnsServer')],
    relays: [
      { name: 'mx1.relay.test', addresses: ['192.0.2.10'] },
      { name: 'mx2.relay.test', addresses: ['192.0.2.11'] },
    ],
    submission: 'smtp.relay.test:587',
  });
  source = await createSettingsSource(fx.store, { pollMs: 200 });
  // The relay is not merged yet: the GTUBE verdict is recorded the way it will record one.
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  await recordTransaction(fx.store, {
    time: new Date().toISOString(),
    client: '198.51.100.23',
    helo: 'spammer.example',
    sender: 'sender@spammer.example',
    recipients: ['user@a.test'],
    domain: 'a.test',
    messageId: '<gtube-test@spammer.example>',
    size: 812,
    disposition: 'reject',
    score: 1001,
    symbols: ['GTUBE'],
    direction: 'inbound',
    destinationReply: '',
  });
  for (let i = 1; i < 10; i++) {
    for (let j = 0; j < (i % 3) + 1; j++) {
      await recordTransaction(fx.store, {
        time: day(i),
        client: '203.0.113.5',
        sender: `news${j}@list.example`,
        recipients: ['user@a.test'],
        domain: 'a.test',
        size: 4000 + j,
        disposition: j === 0 && i % 3 === 0 ? 'would-reject' : 'accept',
        score: j,
        symbols: [],
        direction: 'inbound',
      });
    }
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  source?.close();
  await browser?.close();
  await fx?.close();
  if (!process.env.MEF_UPDATE_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
});

/** A screenshot of the whole page as a phone shows it; the page must not scroll sideways. */
async function shot(page: Page, name: string): Promise<void> {
  const file = join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
}

async function login(page: Page, user: string, password: string): Promise<void> {
  await page.goto(`${fx.base}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]:has-text("Log in")');
  await page.waitForURL(`${fx.base}/domains`);
}

describe('the interface in a real browser (Debian chromium, no script on the pages)', () => {
  it('logs in, switches monitor mode off, sees the GTUBE verdict; another domain admin gets 404', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    await page.goto(`${fx.base}/login`);
    await shot(page, 'login');
    await login(page, 'alice', PASSWORDS.alice);
    await shot(page, 'domains');

    await page.click('a[href="/domains/a.test"]');
    expect(await page.isChecked('input[name=monitor]')).toBe(true);
    await shot(page, 'settings');
    await page.uncheck('input[name=monitor]');
    await page.click('button:has-text("Save settings")');
    await page.waitForSelector('p.flash');
    expect(await page.textContent('p.flash')).toContain('Saved: 1 change');
    expect((await getDomain(fx.store, 'a.test'))?.monitor).toBe(false);
    const deadline = Date.now() + 3000;
    while (source.get('a.test')?.monitor !== false && Date.now() < deadline) await page.waitForTimeout(50);
    expect(source.get('a.test')?.monitor).toBe(false);

    await page.click('nav.tabs a:has-text("Traffic")');
    const row = page.locator('tr', { hasText: '<gtube-test@spammer.example>' });
    expect(await row.textContent()).toContain('reject');
    expect(await row.textContent()).toContain('GTUBE');
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(5);
    await shot(page, 'traffic');

    await page.click('nav.tabs a:has-text("Rollout")');
    expect(await page.textContent('main')).toContain('MX records are the relays');
    await shot(page, 'rollout');
    await page.click('nav.tabs a:has-text("Audit log")');
    expect(await page.locator('td', { hasText: 'monitor' }).count()).toBe(1);
    await shot(page, 'audit');
    await page.click('header button:has-text("Log out")');
    await page.waitForURL(`${fx.base}/login`);

    await login(page, 'bob', PASSWORDS.bob);
    expect(await page.locator('a[href="/domains/a.test"]').count()).toBe(0);
    for (const path of ['/domains/a.test', '/domains/a.test/traffic', '/domains/a.test/audit']) {
      const res = await page.goto(`${fx.base}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await page.textContent('main')).not.toContain('gtube');
    }
    await shot(page, 'not-found');
    await page.goto(`${fx.base}/domains/b.test/traffic`);
    expect(await page.textContent('main')).not.toContain('gtube-test');
    await context.close();
  });

  it('shows the operator the users page', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      javaScriptEnabled: false,
    });
    const page = await context.newPage();
    await login(page, 'root', PASSWORDS.root);
    await page.click('header a:has-text("Users")');
    expect(await page.textContent('main')).toContain('domain administrator');
    await shot(page, 'users');
    await context.close();
  });
});
