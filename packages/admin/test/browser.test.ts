import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SinkServer as Sink, startSink } from '@mef/test-servers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, recordTransaction, type Store, searchTransactions } from '../src/index.js';
import {
  addUsers,
  type MefProcess,
  settingsApplied,
  settingsGeneration,
  startAdminCommand,
  startRelayCommand,
  USERS,
  writeMefConfig,
} from './support/mef.js';
import { EXE_ATTACHMENT, sendMail, waitFor } from './support/relay.js';

const CHROMIUM = '/usr/bin/chromium';
// `MEF_UPDATE_SCREENSHOTS=1` writes the pictures the docs show; otherwise they go to a temp folder.
const shots = process.env.MEF_UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '..', '..', '..', 'docs', 'admin')
  : mkdtempSync(join(tmpdir(), 'mef-admin-shots-'));
const INVOICE = { body: 'Please pay the attached invoice.', attachments: [EXE_ATTACHMENT] };

let dir: string;
let sink: Sink;
let store: Store;
let relay: MefProcess | undefined;
let admin: MefProcess | undefined;
let base: string;
let smtpPort: number;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      'chromium is not installed (apt-get install chromium); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  mkdirSync(shots, { recursive: true });
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), 'mef-admin-browser-'));
  // One config file, as an operator writes it: the relay and the interface share `admin.db`
  // (relative to the file); the relay's `domains` seed the store with a.test and b.test.
  const file = writeMefConfig(dir, 'mef.json', {
    database: 'admin.db',
    hostname: 'mx1.relay.test',
    destination: `127.0.0.1:${sink.port}`,
    admin: {
      dns: [inject('dnsServer')],
      relays: [
        { name: 'mx1.relay.test', addresses: ['192.0.2.10'] },
        { name: 'mx2.relay.test', addresses: ['192.0.2.11'] },
      ],
      submission: 'smtp.relay.test:587',
    },
  });
  relay = await startRelayCommand(file);
  smtpPort = Number(relay.ready);
  await addUsers(file);
  admin = await startAdminCommand(file);
  base = admin.ready;
  // Older traffic, so that the chart has days to draw: plain accepted mail.
  store = await openStore(join(dir, 'admin.db'));
  for (let i = 1; i < 10; i++) {
    for (let j = 0; j < (i % 3) + 1; j++) {
      await recordTransaction(store, {
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
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([relay?.stop(), admin?.stop()]);
  await store?.close();
  await sink?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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

async function login(page: Page, user: keyof typeof USERS): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', USERS[user].password);
  await page.click('button[type=submit]:has-text("Log in")');
  await page.waitForURL(`${base}/domains`);
}

/** A phone-sized page with JavaScript off: the interface must work without it. */
async function phone(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    javaScriptEnabled: false,
  });
  return context.newPage();
}

/** The verdict-log rows (of a.test, with this disposition if given) holding `text`, once there are any. */
function logged(text: string, disposition?: string, domain = 'a.test') {
  return waitFor(
    () => searchTransactions(store, domain, { text, ...(disposition ? { disposition } : {}) }),
    (rows) => rows.length > 0,
    15_000,
  );
}

/** The message the sink received with this Message-ID. */
function received(messageId: string): string | undefined {
  return sink.messages().find((m) => m.includes(`Message-ID: ${messageId}`));
}

/** Resolves once the relay's primary reports a change saved after `before` in force in every worker. */
function applied(before: number): Promise<number> {
  if (!relay) throw new Error('the relay did not start');
  return settingsApplied(relay, before);
}

describe('the interface in a real browser (Debian chromium, no script on the pages) with `mef relay` and `mef admin` running', () => {
  it('shows what monitor mode let through, by outcome; switching it off makes each the real outcome; another domain admin sees none of it', async () => {
    // Monitor mode (the seed): GTUBE and a banned attachment are delivered tagged and logged as
    // what the relay would have done.
    const tagged = await sendMail(smtpPort, 'user@a.test', '<gtube-monitor@spammer.example>');
    expect(tagged.code, `${tagged.response} ${relay?.stderr()}`).toBe(250);
    const held = await sendMail(smtpPort, 'user@a.test', '<exe-monitor@spammer.example>', INVOICE);
    expect(held.code, held.response).toBe(250);
    expect(received('<gtube-monitor@spammer.example>')).toContain('X-MEF-Monitor: would reject');
    expect(received('<exe-monitor@spammer.example>')).toContain('X-MEF-Monitor: would quarantine');
    expect((await logged('gtube-monitor'))[0]?.disposition).toBe('would-reject');
    expect((await logged('exe-monitor'))[0]?.disposition).toBe('would-quarantine');

    const page = await phone();
    await page.goto(`${base}/login`);
    await shot(page, 'login');
    await login(page, 'alice');
    await shot(page, 'domains');

    // The rollout steps: monitor mode's counts by outcome, the live MX check, the firewall step.
    await page.click('a[href="/domains/a.test"]');
    await page.click('nav.tabs a:has-text("Rollout")');
    expect(await page.textContent('main')).toContain('MX records are the relays');
    const monitorStep = await page.innerHTML('ol.steps > li:first-child');
    expect(monitorStep).toMatch(/would have refused <strong>2<\/strong>/);
    expect(monitorStep).toContain(
      'quarantine: <a href="/domains/a.test/traffic?disposition=would-quarantine">1</a>',
    );
    expect(monitorStep).toContain('reject: <a href="/domains/a.test/traffic?disposition=would-reject">1</a>');
    expect(await page.textContent('main')).toContain('to do');
    await page.click('button:has-text("Mark as done")');
    await page.waitForURL(`${base}/domains/a.test/rollout`);
    expect(await page.textContent('main')).toContain('✓ done (alice,');
    await shot(page, 'rollout');
    for (const [kind, id, symbol] of [
      ['would-quarantine', '<exe-monitor@spammer.example>', 'ATTACH_EXECUTABLE'],
      ['would-reject', '<gtube-monitor@spammer.example>', 'GTUBE'],
    ] as const) {
      await page.goto(`${base}/domains/a.test/rollout`);
      await page.click(`a[href="/domains/a.test/traffic?disposition=${kind}"]`);
      // The verdict log's rows (the chart's numbers are a table too, of days).
      const rows = page.locator('form[role=search] + div.scroll tbody tr');
      expect(await rows.count(), kind).toBe(1);
      expect(await rows.first().textContent()).toContain(id);
      expect(await rows.first().textContent()).toContain(kind);
      expect(await rows.first().textContent()).toContain(symbol);
    }

    // Monitor mode off and a quarantine address, in the settings form.
    await page.click('nav.tabs a:has-text("Settings")');
    expect(await page.isChecked('input[name=monitor]')).toBe(true);
    const before = settingsGeneration(relay as MefProcess);
    await shot(page, 'settings');
    await page.uncheck('input[name=monitor]');
    await page.fill('input[name=quarantine]', 'quarantine@a.test');
    await page.click('button:has-text("Save settings")');
    await page.waitForSelector('p.flash');
    expect(await page.textContent('p.flash')).toContain('Saved: 2 changes');

    // The running relay follows within its poll; once its workers have the change, GTUBE gets
    // 554 at the first try and nothing is delivered...
    await applied(before);
    const refused = await sendMail(smtpPort, 'user@a.test', '<gtube-live@spammer.example>');
    expect(refused.code, refused.response).toBe(554);
    const [rejected] = await logged('gtube-live', 'reject');
    const refusedId = rejected?.messageId ?? '(none logged)';
    expect(rejected?.symbols).toContain('GTUBE');
    expect(received(refusedId)).toBeUndefined();
    // ...and the banned attachment goes to the quarantine address alone.
    const quarantined = await sendMail(smtpPort, 'user@a.test', '<exe-live@spammer.example>', INVOICE);
    expect(quarantined.code, quarantined.response).toBe(250);
    expect(received('<exe-live@spammer.example>')).toContain('X-Rcpt-Args: <quarantine@a.test>');
    expect(received('<exe-live@spammer.example>')).not.toContain('X-Rcpt-Args: <user@a.test>');
    expect((await logged('exe-live'))[0]?.disposition).toBe('quarantine');

    await page.click('nav.tabs a:has-text("Traffic")');
    const reject = page.locator('tr', { hasText: refusedId });
    expect(await reject.textContent()).toContain('reject');
    expect(await reject.textContent()).toContain('GTUBE');
    expect(await reject.textContent()).toContain('sender@spammer.example');
    const quarantine = page.locator('tr', { hasText: '<exe-live@spammer.example>' });
    expect(await quarantine.textContent()).toContain('quarantine');
    expect(await quarantine.textContent()).not.toContain('would-');
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(5);
    await shot(page, 'traffic');

    // The rollout steps now: live, the firewall done.
    await page.click('nav.tabs a:has-text("Rollout")');
    expect(await page.textContent('main')).toContain('✓ live: the filters refuse mail');
    expect(await page.locator('button:has-text("Go live")').count()).toBe(0);
    await shot(page, 'rollout-live');

    await page.click('nav.tabs a:has-text("Audit log")');
    for (const field of ['monitor', 'quarantine', 'rollout.firewall']) {
      expect(
        await page.locator('td', { hasText: new RegExp(`^${field.replace('.', '\\.')}$`) }).count(),
        field,
      ).toBe(1);
    }
    await shot(page, 'audit');
    await page.click('header button:has-text("Log out")');
    await page.waitForURL(`${base}/login`);

    // bob administers b.test only: a.test and its verdicts are not there for him.
    await login(page, 'bob');
    expect(await page.locator('a[href="/domains/a.test"]').count()).toBe(0);
    for (const path of [
      '/domains/a.test',
      '/domains/a.test/rollout',
      '/domains/a.test/traffic',
      '/domains/a.test/traffic?q=gtube',
      '/domains/a.test/traffic?disposition=would-quarantine',
      '/domains/a.test/audit',
    ]) {
      const res = await page.goto(`${base}${path}`);
      expect(res?.status(), path).toBe(404);
      expect((await page.textContent('main'))?.toLowerCase()).not.toMatch(/gtube|invoice|spammer/);
    }
    await shot(page, 'not-found');
    await page.goto(`${base}/domains/b.test/traffic?q=gtube`);
    expect(await page.textContent('main')).toContain('No matching messages.');
    expect(await page.textContent('main')).not.toContain('spammer.example');
    await page.context().close();
  });

  it('an operator adds a domain in the browser; the running relay serves it within seconds', async () => {
    const before = await sendMail(smtpPort, 'user@c.test', '<before@spammer.example>', { body: 'Hello.' });
    expect(before.code, before.response).toBeGreaterThanOrEqual(500);
    const page = await phone();
    await login(page, 'root');
    const generation = settingsGeneration(relay as MefProcess);
    await page.fill('input[name=name]', 'c.test');
    await page.fill('input[name=destination]', `127.0.0.1:${sink.port}`);
    await page.click('button:has-text("Add domain")');
    await page.waitForSelector('p.flash');
    expect(await page.textContent('p.flash')).toContain('Added c.test.');
    await applied(generation);
    const served = await sendMail(smtpPort, 'user@c.test', '<hello@spammer.example>', { body: 'Hello.' });
    expect(served.code, served.response).toBe(250);
    expect((await logged('hello', 'accept', 'c.test'))[0]?.messageId).toBe('<hello@spammer.example>');
    await page.click('header a:has-text("Users")');
    expect(await page.textContent('main')).toContain('domain administrator');
    await shot(page, 'users');
    await page.context().close();
  });
});
