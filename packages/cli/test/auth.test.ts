/**
 * `mef scan --auth` against a real BIND on loopback (the auth package's test helper and
 * zones: SPF, DKIM and DMARC records; messages signed with mailauth in the test).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NamedServer as Named, startNamed } from '@mef/test-servers';
import { BAD_IP, GOOD_IP, message, signed, zones } from '@mef/test-servers/auth-world';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, mef, namesOf, tempDir } from './helpers.js';

let named: Named;
let dir: string;

beforeAll(async () => {
  named = await startNamed(zones());
  dir = tempDir();
  writeFileSync(join(dir, 'signed.eml'), await signed('pass.test', message('alice@pass.test')));
  writeFileSync(join(dir, 'forged.eml'), message('alice@pass.test'));
  writeFileSync(join(dir, 'soft.eml'), message('bob@soft.test'));
});

afterAll(async () => {
  await named?.stop();
});

describe('mef scan --auth', () => {
  it('passes SPF, DKIM and DMARC for a signed message from an allowed client', async () => {
    const r = await mef([
      'scan',
      '--json',
      '--auth',
      '--dns',
      named.server,
      '--ip',
      GOOD_IP,
      '--from',
      'alice@pass.test',
      join(dir, 'signed.eml'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [o] = jsonLines(r.stdout);
    expect(namesOf(o)).toEqual(expect.arrayContaining(['R_SPF_ALLOW', 'R_DKIM_ALLOW', 'DMARC_POLICY_ALLOW']));
    expect(JSON.stringify(o?.headers)).toContain('Authentication-Results');
  });

  it('rejects a forged message with --dmarc-reject reject, and only scores without it', async () => {
    const args = [
      'scan',
      '--json',
      '--auth',
      '--dns',
      named.server,
      '--ip',
      BAD_IP,
      '--from',
      'alice@pass.test',
    ];
    const scored = jsonLines((await mef([...args, join(dir, 'forged.eml')])).stdout)[0];
    expect(scored).toMatchObject({ disposition: 'accept' });
    expect(namesOf(scored)).toEqual(expect.arrayContaining(['R_SPF_FAIL', 'DMARC_POLICY_REJECT']));
    const r = await mef([...args, '--dmarc-reject', 'reject', join(dir, 'forged.eml')]);
    const [o] = jsonLines(r.stdout);
    expect(o).toMatchObject({ disposition: 'reject' });
    expect(JSON.stringify(o?.reply)).toContain('550');
  });

  it('reads the auth: section of the config file', async () => {
    const file = join(dir, 'auth.yaml');
    writeFileSync(
      file,
      `auth:\n  dns: ["${named.server}"]\n  dmarcQuarantine: quarantine\n  hostname: mx1.example.net\nenvelope:\n  ip: ${BAD_IP}\n  from: bob@soft.test\n`,
    );
    const r = await mef(['scan', '--json', '--config', file, join(dir, 'soft.eml')]);
    const [o] = jsonLines(r.stdout);
    expect(o).toMatchObject({ disposition: 'quarantine' });
    expect(namesOf(o)).toEqual(expect.arrayContaining(['R_SPF_SOFTFAIL', 'DMARC_POLICY_QUARANTINE']));
    expect(JSON.stringify(o?.headers)).toContain('mx1.example.net');
  });

  it('refuses --auth without a DNS server (never the system resolver)', async () => {
    const r = await mef(['scan', '--auth', join(dir, 'soft.eml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('auth.dns: expected a DNS server for --auth (--dns host:port');
  });
});
