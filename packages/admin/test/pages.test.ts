import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  checkMx,
  createAdminServer,
  firewallRules,
  getDomain,
  recordTransaction,
  searchTransactions,
  trafficChart,
} from '../src/index.js';
import { Client } from './support/client.js';
import { type Fixture, PASSWORDS, startFixture } from './support/fixture.js';

const today = new Date().toISOString().slice(0, 10);

describe('the rollout, traffic and audit pages (SQLite)', () => {
  let fx: Fixture;
  let alice: Client;
  beforeAll(async () => {
    fx = await startFixture(undefined, {
      dns: [inject('dnsServer')],
      relays: [
        { name: 'mx1.relay.test', addresses: ['192.0.2.10', '2001:db8::10'] },
        { name: 'mx2.relay.test', addresses: ['192.0.2.11'] },
      ],
      submission: 'smtp.relay.test:587',
    });
    const base = {
      client: '198.51.100.9',
      sender: 'spammer@bad.example',
      size: 2048,
      direction: 'inbound' as const,
    };
    await recordTransaction(fx.store, {
      ...base,
      time: `${today}T08:00:00Z`,
      recipients: ['u@a.test'],
      domain: 'a.test',
      disposition: 'would-reject',
      score: 1001,
      symbols: ['GTUBE'],
      messageId: '<gtube-1@bad.example>',
    });
    await recordTransaction(fx.store, {
      ...base,
      time: `${today}T08:05:00Z`,
      recipients: ['u@a.test'],
      domain: 'a.test',
      disposition: 'accept',
      score: 0.5,
      symbols: [],
      sender: 'friend@good.example',
    });
    await recordTransaction(fx.store, {
      ...base,
      time: `${today}T08:06:00Z`,
      recipients: ['x@b.test'],
      domain: 'b.test',
      disposition: 'reject',
      score: 30,
      symbols: ['SECRET_B_SYMBOL'],
    });
    // Older than keepDays: a server drops it when it starts.
    await recordTransaction(fx.store, {
      ...base,
      time: '2020-01-01T00:00:00Z',
      recipients: ['u@a.test'],
      domain: 'a.test',
      disposition: 'accept',
      score: 0,
      symbols: [],
      sender: 'ancient@old.example',
    });
    expect(await searchTransactions(fx.store, 'a.test', { text: 'ancient' })).toHaveLength(1);
    await fx.server.close();
    fx.server = createAdminServer({ ...fx.config, keepDays: 30 }, fx.store, { log: false });
    fx.base = await fx.server.listen();
    alice = new Client(fx.base);
    expect((await alice.login('alice', PASSWORDS.alice)).status).toBe(303);
  });
  afterAll(() => fx.close());

  it('shows the rollout steps with the live MX result, firewall rules and would-have-rejected counts', async () => {
    const text = await (await alice.get('/domains/a.test/rollout')).text();
    expect(text).toContain('MX records are the relays');
    expect(text).toContain('MX 10 mx1.relay.test');
    expect(text).toContain('MX 20 mx2.relay.test');
    expect(text).toContain(
      'nft add rule inet filter input ip saddr { 192.0.2.10, 192.0.2.11 } tcp dport 2526 accept',
    );
    expect(text).toContain('ip6tables -A INPUT -p tcp --dport 2526 -s 2001:db8::10 -j ACCEPT');
    expect(text).toMatch(
      /monitor mode would have refused <strong>1<\/strong> \(reject: <a href="\/domains\/a.test\/traffic\?disposition=would-reject">1<\/a>\)/,
    );
    expect(text).toContain('smtp.relay.test:587');
    expect(text).toContain('action="/domains/a.test/rollout/go-live"');
  });

  it('says what is wrong when the MX records are not the relays', async () => {
    const root = new Client(fx.base);
    await root.login('root', PASSWORDS.root);
    const text = await (await root.get('/domains/b.test/rollout')).text();
    expect(text).toContain('MX 10 mail.b.test');
    expect(text).toContain('mail.b.test is not a relay');
    expect(text).toContain('mx1.relay.test is missing from the MX records');
  });

  it('goes live and records the firewall step, both in the audit log', async () => {
    let csrf = await alice.csrf('/domains/a.test/rollout');
    expect((await alice.post('/domains/a.test/rollout/go-live', { _csrf: csrf })).status).toBe(303);
    expect((await getDomain(fx.store, 'a.test'))?.monitor).toBe(false);
    csrf = await alice.csrf('/domains/a.test/rollout');
    expect((await alice.post('/domains/a.test/rollout/firewall', { _csrf: csrf })).status).toBe(303);
    const page = await (await alice.get('/domains/a.test/rollout')).text();
    expect(page).toContain('live: the filters refuse mail');
    expect(page).toMatch(/✓ done<\/span> <span class="note">\(alice, /);
    const audit = await (await alice.get('/domains/a.test/audit')).text();
    expect(audit).toContain('<td>monitor</td><td>true</td><td>false</td>');
    expect(audit).toContain('<td>rollout.firewall</td>');
  });

  it('draws the traffic per day as SVG and finds verdicts by text, showing metadata only of its own domain', async () => {
    const text = await (await alice.get('/domains/a.test/traffic')).text();
    expect(text).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(text).toContain(`<title>${today} would-reject: 1</title>`);
    expect(text).toContain(`<title>${today} accept: 1</title>`);
    expect(text).toContain('&lt;gtube-1@bad.example&gt;');
    expect(text).not.toContain('SECRET_B_SYMBOL');
    expect(await searchTransactions(fx.store, 'a.test', { text: 'ancient' })).toEqual([]);
    const found = await (await alice.get('/domains/a.test/traffic?q=GTUBE')).text();
    expect(found).toContain('spammer@bad.example');
    expect(found).not.toContain('friend@good.example');
    const none = await (await alice.get('/domains/a.test/traffic?q=SECRET_B')).text();
    expect(none).toContain('No matching messages.');
    const byKind = await (await alice.get('/domains/a.test/traffic?disposition=accept')).text();
    expect(byKind).toContain('friend@good.example');
    expect(byKind).not.toContain('spammer@bad.example');
    for (const bad of ['days=1000', 'disposition=%3Cx%3E', 'before=-1', `q=${'x'.repeat(201)}`]) {
      expect((await alice.get(`/domains/a.test/traffic?${bad}`)).status, bad).toBe(400);
    }
    expect((await alice.get('/domains/a.test/traffic?days=3&disposition=&unknown=1')).status).toBe(200);
  });

  it('renders a chart for empty data and for a 90-day window without errors', () => {
    expect(trafficChart([])).toMatch(/^<svg[^>]*>.*<\/svg>$/s);
    const days = Array.from({ length: 90 }, (_, i) => ({
      day: `2026-01-${String((i % 28) + 1).padStart(2, '0')}`,
      counts: { accept: i },
    }));
    expect(trafficChart(days).match(/<rect /g)).toHaveLength(89);
  });
});

describe('checkMx and firewallRules', () => {
  it('checks the MX order through the configured resolver only', async () => {
    const servers = [inject('dnsServer')];
    expect(await checkMx('a.test', ['mx1.relay.test', 'mx2.relay.test'], { servers })).toEqual({
      ok: true,
      records: [
        { exchange: 'mx1.relay.test', priority: 10 },
        { exchange: 'mx2.relay.test', priority: 20 },
      ],
      problems: [],
    });
    expect((await checkMx('a.test', ['mx2.relay.test', 'mx1.relay.test'], { servers })).problems).toEqual([
      'mx1.relay.test is preferred over mx2.relay.test',
    ]);
    expect(await checkMx('none.test', ['mx1.relay.test'], { servers })).toMatchObject({
      ok: false,
      problems: ['none.test has no MX records'],
    });
  });

  it('writes rules for IPv4 and IPv6 relays that end with a drop', () => {
    const rules = firewallRules('10.0.0.5:25', ['192.0.2.1']).split('\n');
    expect(rules).toContain('nft add rule inet filter input ip saddr { 192.0.2.1 } tcp dport 25 accept');
    expect(rules).toContain('iptables -A INPUT -p tcp --dport 25 -j DROP');
    expect(rules.some((l) => l.startsWith('ip6tables'))).toBe(false);
  });
});
