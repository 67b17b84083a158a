/**
 * `mef check-dns` against a real BIND on loopback serving MX records with TTLs, and
 * `mef firewall` checked by nft's and iptables-restore's own parsers (`nft -c`, `-t`).
 */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NamedServer as Named, startNamed } from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareMx, firewallRules, groupDestinations, run } from '../src/index.js';
import { mef, tempDir } from './helpers.js';

let named: Named;
let silent: Socket;
let silentPort = 0;
let dir: string;

const mx = (origin: string, ...records: string[]) => ({ origin, ttl: 3600, records });

beforeAll(async () => {
  named = await startNamed([
    mx('right.test', '@ IN MX 10 mx1.example.net.', '@ IN MX 20 mx2.example.net.'),
    mx('order.test', '@ IN MX 10 mx2.example.net.', '@ IN MX 20 mx1.example.net.'),
    mx('missing.test', '@ 300 IN MX 10 mx1.example.net.'),
    mx(
      'extra.test',
      '@ IN MX 10 mx1.example.net.',
      '@ IN MX 20 mx2.example.net.',
      '@ IN MX 30 old-mail.extra.test.',
    ),
    mx('nomx.test', '@ IN A 192.0.2.80'),
    mx('null.test', '@ IN MX 0 .'),
  ]);
  silent = createSocket('udp4');
  silent.on('message', () => {});
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  silentPort = silent.address().port;
  dir = tempDir();
});

afterAll(async () => {
  await named?.stop();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

async function mefIn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

const check = (domain: string, ...more: string[]) =>
  mefIn(['check-dns', domain, '--expect', 'mx1.example.net,mx2.example.net', '--dns', named.server, ...more]);

describe('mef check-dns against a real BIND', () => {
  it('exits 0 when the MX hosts are the relays in order, and reports the TTL', async () => {
    const r = await check('right.test');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10 mx1.example.net  TTL 3600');
    expect(r.stdout).toContain('20 mx2.example.net  TTL 3600');
    expect(r.stdout).toContain('a change takes up to 3600 s (1 h) to be seen');
  });

  it('prints one JSON object with --json', async () => {
    const r = await check('right.test', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({
      domain: 'right.test',
      ok: true,
      ttl: 3600,
      records: [
        { priority: 10, exchange: 'mx1.example.net', ttl: 3600 },
        { priority: 20, exchange: 'mx2.example.net', ttl: 3600 },
      ],
      problems: [],
    });
  });

  it('exits 1 naming the wrong order', async () => {
    const r = await check('order.test');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL WRONG_ORDER: wrong order: mx1.example.net has priority 20 and mx2.example.net has 10',
    );
  });

  it('exits 1 naming a missing relay, with the TTL', async () => {
    const r = await check('missing.test');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL MISSING_HOST: relay mx2.example.net is not an MX host');
    expect(r.stdout).toContain('up to 300 s (5 min)');
  });

  it('exits 1 naming an extra host that bypasses the relays', async () => {
    const r = await check('extra.test', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problems).toEqual([
      expect.objectContaining({
        code: 'EXTRA_HOST',
        message: expect.stringContaining('old-mail.extra.test (priority 30)'),
      }),
    ]);
  });

  it('exits 1 for a domain without MX records, a null MX and a name that does not exist', async () => {
    expect((await check('nomx.test')).stdout).toContain('FAIL NO_MX: no MX records');
    expect((await check('null.test')).stdout).toContain('FAIL NULL_MX');
    const gone = await check('gone.right.test');
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('FAIL NXDOMAIN: gone.right.test does not exist (NXDOMAIN');
  });

  it('exits 1 with a clear message when the DNS server does not answer', async () => {
    const started = Date.now();
    const r = await mefIn([
      'check-dns',
      'right.test',
      '--expect',
      'mx1.example.net',
      '--dns',
      `127.0.0.1:${silentPort}`,
      '--query-timeout',
      '300',
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL TIMEOUT: no answer from 127.0.0.1:${silentPort} within 300 ms`);
  });

  it('refuses bad input with exit 2', async () => {
    expect(
      (await mefIn(['check-dns', 'bad domain', '--expect', 'mx1.example.net', '--dns', named.server])).code,
    ).toBe(2);
    const r = await mefIn(['check-dns', 'right.test', '--expect', 'mx1.example.net', '--dns', 'ns.example']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid DNS server "ns.example"');
    expect((await mefIn(['check-dns', 'right.test'])).code).toBe(2);
  });

  it('runs from the built binary too', async () => {
    const r = await mef([
      'check-dns',
      'right.test',
      '--expect',
      'mx1.example.net,mx2.example.net',
      '--dns',
      named.server,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('accepts relays of equal priority as listed', () => {
    const recs = [
      { priority: 10, exchange: 'mx1.example.net', ttl: 60 },
      { priority: 10, exchange: 'mx2.example.net', ttl: 60 },
    ];
    expect(compareMx(recs, ['mx1.example.net', 'mx2.example.net'])).toEqual([]);
  });
});

function nftCheck(script: string): { status: number | null; stderr: string } {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.nft`);
  writeFileSync(file, script);
  const r = spawnSync('nft', ['-c', '-f', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`nft is not installed (apt-get install nftables): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr };
}

function restoreCheck(tool: 'iptables-restore' | 'ip6tables-restore', rules: string) {
  const r = spawnSync(tool, ['-t', '-n'], { input: rules, encoding: 'utf8' });
  if (r.error) throw new Error(`${tool} is not installed (apt-get install iptables): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr };
}

describe('mef firewall', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('prints nftables and iptables rules that nft -c and iptables-restore -t accept', async () => {
    const file = write(
      'fw.yaml',
      'firewall:\n  relays: ["192.0.2.10", "198.51.100.0/28", "2001:db8::10"]\n  destinations: ["mail.example.net", "10.0.0.5:2526"]\n',
    );
    const r = await mefIn([
      'firewall',
      '--config',
      file,
      '--format',
      'nft',
      '--destination',
      'mail.example.net',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('elements = { 192.0.2.10, 198.51.100.0/28 }');
    expect(r.stdout).toContain('tcp dport 25 ip6 saddr @relays_v6 accept');
    expect(nftCheck(r.stdout)).toEqual({ status: 0, stderr: '' });

    const [, second] = firewallRules(
      ['192.0.2.10', '198.51.100.0/28', '2001:db8::10'],
      groupDestinations([{ destination: 'mail.example.net' }, { destination: '10.0.0.5:2526' }]),
    );
    expect(second?.nft).toContain('tcp dport 2526 counter drop');
    expect(nftCheck(second?.nft ?? '')).toEqual({ status: 0, stderr: '' });
    expect(restoreCheck('iptables-restore', second?.iptables ?? '')).toEqual({ status: 0, stderr: '' });
    expect(restoreCheck('ip6tables-restore', second?.ip6tables ?? '')).toEqual({ status: 0, stderr: '' });
    expect(second?.iptables).toContain('-A MEF-SMTP -s 198.51.100.0/28 -j ACCEPT');
    expect(second?.iptables).not.toContain('2001:db8');
  });

  it('closes the other address family too when every relay is IPv4', () => {
    const [r] = firewallRules(['192.0.2.10'], groupDestinations([{ destination: 'mail.example.net' }]));
    expect(r?.nft).not.toContain('relays_v6');
    expect(r?.nft).toContain('tcp dport 25 counter drop');
    expect(r?.ip6tables).toContain('-A MEF-SMTP -j DROP');
    expect(nftCheck(r?.nft ?? '')).toEqual({ status: 0, stderr: '' });
    expect(restoreCheck('ip6tables-restore', r?.ip6tables ?? '')).toEqual({ status: 0, stderr: '' });
  });

  it('reads the destinations from relay.domains when firewall.destinations is absent', () => {
    const d = groupDestinations([
      { destination: '127.0.0.1:2526', domain: 'example.net' },
      { destination: '127.0.0.1:2527', domain: 'example.org' },
    ]);
    expect(d).toEqual([{ host: '127.0.0.1', ports: [2526, 2527], domains: ['example.net', 'example.org'] }]);
    const [r] = firewallRules(['192.0.2.10'], d);
    expect(r?.nft).toContain('tcp dport { 2526, 2527 }');
    expect(r?.nft).toContain('127.0.0.1 (destination of example.net, example.org)');
    expect(nftCheck(r?.nft ?? '')).toEqual({ status: 0, stderr: '' });
    expect(restoreCheck('iptables-restore', r?.iptables ?? '')).toEqual({ status: 0, stderr: '' });
  });

  it('refuses a config without relays or destinations, and bad addresses, with exit 2', async () => {
    const none = await mefIn([
      'firewall',
      '--config',
      write('none.yaml', 'firewall:\n  relays: ["192.0.2.10"]\n'),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('firewall.destinations: expected the hosts to protect');
    const bad = await mefIn([
      'firewall',
      '--config',
      write('bad.yaml', 'firewall:\n  relays: ["192.0.2.300"]\n'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('firewall.relays[0]');
    const noRelays = await mefIn(['firewall', '--config', write('empty.yaml', 'monitor: true\n')]);
    expect(noRelays.code).toBe(2);
    expect(noRelays.stderr).toContain('firewall.relays');
  });
});
