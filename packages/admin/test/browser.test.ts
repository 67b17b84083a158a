import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelay, type Relay } from '@mef/relay';
import { type SinkServer as Sink, startSink } from '@mef/test-servers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getDomain, linkRelay, type RelayLink, recordTransaction, searchTransactions } from '../src/index.js';
import { type Fixture, PASSWORDS, startFixture } from './support/fixture.js';
import { relayConfig, sendMail, waitFor } from './support/relay.js';

const CHROMIUM = '/usr/bin/chromium';
// `MEF_UPDATE_SCREENSHOTS=1` writes the pictures the docs show; otherwise they go to a temp folder.
const shots = process.env.MEF_UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '..', '..', '..', 'docs', 'admin')
  : mkdtempSync(join(tmpdir(), 'mef-admin-shots-'));

let fx: Fixture;
let sink: Sink;
let link: RelayLink;
let relay: Relay;
let relayPort: number;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      'chromium is not installed (apt-get install chromium); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  mkdirSync(shots, { recursive: true });
  sink = await startSink();
  fx = await startFixture(
    undefined,
    {
      dns: [inject('dnsServer')],
      relays: [
        { name: 'mx1.relay.test', addresses: ['192.0.2.10'] },
        { name: 'mx2.relay.test', addresses: ['192.0.2.11'] },
      ],
      submission: 'smtp.relay.test:587',
    },
    {},
    { a: `127.0.0.1:${sink.port}`, b: `127.0.0.1:${sink.port}` },
  );
  // Older traffic, so that the chart has days to draw: plain accepted mail.
  for (let i = 1; i < 10; i++) {
    for (let j = 0; j < (i % 3) + 1; j++) {
      await recordTransaction(fx.store, {
        time: new Date(Date.now() - i * 86_400_000).toISOString(),
        client: '203.0.113.5',
        sender: `news${j}@list.example`,
        recipients: ['user@a.test'],
        domain: 'a.test',
        size: 4000 + j,
        disposition: 'accept',
        score: j,
        symbols: [],
        direction: 'inbound',
      });
    }
  }
  // The relay, as `mef relay` runs with `admin.database`: settings from the same SQLite file,
  // each verdict into its log, the sink as both domains' destination.
  link = await linkRelay(fx.config.database, { pollMs: 500 });
  relay = createRelay(
    relayConfig('mx1.relay.test', { 'a.test': { destination: `127.0.0.1:${sink.port}` } }),
    {
      domainSettings: link.domainSettings,
      onTransaction: link.onTransaction,
    },
  );
  relayPort = (await relay.listen()).smtp;
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
  await browser?.close();
  await relay?.close();
  await link?.close();
  await fx?.close();
  await sink?.stop();
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

/** The verdict-log rows of a.test whose Message-ID (or other text) holds `text`, once there are any. */
function logged(text: string) {
  return waitFor(
    () => searchTransactions(fx.store, 'a.test', { text }),
    (rows) => rows.length > 0,
    10_000,
  );
}

describe('the interface in a real browser (Debian chromium, no script on the pages) with a running relay', () => {
  it('counts what monitor mode let through, switches it off, sees GTUBE refused by the relay and in the log; another domain admin cannot', async () => {
    // Monitor mode (the seed): the relay tags GTUBE and delivers it, and logs it as would-reject.
    const tagged = await sendMail(relayPort, 'user@a.test', '<gtube-monitor@spammer.example>');
    expect(tagged.code, tagged.response).toBe(250);
    expect(sink.messages()).toHaveLength(1);
    expect(sink.messages()[0]).toContain('X-MEF-Monitor: would reject');
    expect((await logged('gtube-monitor'))[0]?.disposition).toBe('would-reject');

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
    await page.click('nav.tabs a:has-text("Rollout")');
    expect(await page.textContent('main')).toContain('MX records are the relays');
    expect(await page.innerHTML('main')).toMatch(
      /monitor mode would have refused <strong>1<\/strong> \(reject: 1\)/,
    );
    await shot(page, 'rollout');
    await page.click('a:has-text("the traffic log")');
    const would = page.locator('tr', { hasText: '<gtube-monitor@spammer.example>' });
    expect(await would.textContent()).toContain('would-reject');
    expect(await would.textContent()).toContain('GTUBE');

    // Monitor mode off in the settings form; the relay's snapshot follows within its poll.
    await page.click('nav.tabs a:has-text("Settings")');
    expect(await page.isChecked('input[name=monitor]')).toBe(true);
    await shot(page, 'settings');
    await page.uncheck('input[name=monitor]');
    await page.click('button:has-text("Save settings")');
    await page.waitForSelector('p.flash');
    expect(await page.textContent('p.flash')).toContain('Saved: 1 change');
    expect((await getDomain(fx.store, 'a.test'))?.monitor).toBe(false);
    const settings = await waitFor(
      () => link.domainSettings.get('a.test'),
      (s) => s?.monitor === false,
      5000,
    );
    expect(settings?.monitor).toBe(false);

    // GTUBE through the relay now: refused with 5xx at the SMTP client, nothing delivered.
    const refused = await sendMail(relayPort, 'user@a.test', '<gtube-test@spammer.example>');
    expect(refused.code, refused.response).toBe(554);
    expect(sink.messages()).toHaveLength(1);
    expect((await logged('gtube-test'))[0]?.disposition).toBe('reject');

    await page.click('nav.tabs a:has-text("Traffic")');
    const row = page.locator('tr', { hasText: '<gtube-test@spammer.example>' });
    expect(await row.textContent()).toContain('reject');
    expect(await row.textContent()).toContain('GTUBE');
    expect(await row.textContent()).toContain('sender@spammer.example');
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(5);
    await shot(page, 'traffic');

    await page.click('nav.tabs a:has-text("Audit log")');
    expect(await page.locator('td', { hasText: 'monitor' }).count()).toBe(1);
    await shot(page, 'audit');
    await page.click('header button:has-text("Log out")');
    await page.waitForURL(`${fx.base}/login`);

    // bob administers b.test only: a.test and its verdicts are not there for him.
    await login(page, 'bob', PASSWORDS.bob);
    expect(await page.locator('a[href="/domains/a.test"]').count()).toBe(0);
    for (const path of [
      '/domains/a.test',
      '/domains/a.test/traffic',
      '/domains/a.test/traffic?q=gtube',
      '/domains/a.test/audit',
    ]) {
      const res = await page.goto(`${fx.base}${path}`);
      expect(res?.status(), path).toBe(404);
      expect((await page.textContent('main'))?.toLowerCase()).not.toContain('gtube');
    }
    await shot(page, 'not-found');
    await page.goto(`${fx.base}/domains/b.test/traffic?q=gtube`);
    expect(await page.textContent('main')).toContain('No matching messages.');
    expect(await page.textContent('main')).not.toContain('spammer.example');
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
