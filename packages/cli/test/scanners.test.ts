/**
 * The scanner flags against real servers on loopback (clamd, rbldnsd), and each flag's failure
 * path against a closed port.
 */

import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { buildMessage } from '@mef/core/testing';
import { freePort } from '@mef/test-servers';
import { describe, expect, inject, it } from 'vitest';
import {
  eicar,
  GTUBE,
  jsonLines,
  mef,
  message,
  namesOf,
  symbolsOf,
  tempDir,
  writeConfig,
} from './helpers.js';

const clamdPort = inject('clamdPort');
const clamdSocket = inject('clamdSocket');
const dnsPort = inject('dnsPort');

/** EICAR attached as readme.txt, base64. */
function virusMessage(): string {
  return buildMessage({
    from: 'a@example.com',
    to: 'b@example.org',
    subject: 'invoice',
    messageId: '<virus@example.com>',
    text: 'see attached',
    attachments: [{ filename: 'readme.txt', contentType: 'application/octet-stream', content: eicar() }],
  }).toString('latin1');
}

/** Runs `mef scan --json ...args`, checks the exit code, and gives the JSON lines. */
async function scan(
  args: readonly string[],
  options: { stdin?: string; code?: number; stderr?: RegExp } = {},
): Promise<Record<string, unknown>[]> {
  const r = await mef(
    ['scan', '--json', ...args],
    options.stdin === undefined ? {} : { stdin: options.stdin },
  );
  expect(r.code).toBe(options.code ?? 0);
  if (options.stderr) expect(r.stderr).toMatch(options.stderr);
  return jsonLines(r.stdout);
}

const HAM = 'samples/01-ham.eml';

/** A `mef.yaml` with `yaml` in a fresh folder: its path. */
const yamlConfig = (yaml: string) => writeConfig(tempDir(), yaml, 'mef.yaml');

describe('--clamd against a real clamd', () => {
  it('rejects a message carrying EICAR over TCP, and accepts a clean one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-virus.eml'), virusMessage());
    writeFileSync(join(dir, 'b-clean.eml'), message('clean', 'nothing here'));
    const [virus, clean] = await scan(['--clamd', `127.0.0.1:${clamdPort}`, dir]);
    expect(virus).toMatchObject({ disposition: 'reject', reply: { code: 554 } });
    const names = namesOf(virus);
    expect(names).toContain('CLAMAV_VIRUS');
    expect(JSON.stringify(virus?.symbols)).toContain('Eicar-Test-Signature');
    expect(clean).toMatchObject({ disposition: 'accept', errors: [] });
    expect(clean?.headers).toContainEqual(expect.objectContaining({ name: 'X-Virus-Status' }));
  });

  it('talks to clamd over its unix socket too', async () => {
    const [o] = await scan(['--clamd', clamdSocket, '-'], { stdin: virusMessage() });
    expect(o).toMatchObject({ source: '-', disposition: 'reject' });
  });
});

describe('--clamd failure', () => {
  it('gives tempfail with the error and exits 1 when clamd cannot be reached', async () => {
    const port = await freePort();
    const [o] = await scan(['--clamd', `127.0.0.1:${port}`, HAM], { code: 1, stderr: /clamav failed/ });
    expect(o).toMatchObject({ disposition: 'tempfail', reply: { code: 451 } });
    expect(o?.errors).toEqual([
      expect.objectContaining({
        stage: 'clamav',
        policy: 'tempfail',
        code: expect.stringMatching(/^MEF_AV_/),
      }),
    ]);
  });

  it('accepts with the error recorded and exits 0 under the accept policy of a config file', async () => {
    const port = await freePort();
    const file = yamlConfig(`clamav:\n  hosts: ["127.0.0.1:${port}"]\n  onError: accept\n`);
    const [o] = await scan(['--config', file, HAM]);
    expect(o).toMatchObject({ disposition: 'accept' });
    expect(o?.errors).toEqual([expect.objectContaining({ stage: 'clamav', policy: 'accept' })]);
  });
});

describe('--dns, --rbl and --uribl against a real rbldnsd', () => {
  const dns = () => ['--dns', `127.0.0.1:${dnsPort}`];
  /** `mef scan --json --dns <rbldnsd> ...args`: the first result. */
  const scanDns = async (args: readonly string[], stdin?: string) =>
    (await scan([...dns(), ...args], stdin === undefined ? {} : { stdin }))[0];

  it('uses the preset return codes for a Spamhaus-style zone (zen=ZONE)', async () => {
    const o = await scanDns(['--rbl', 'zen=zen.test', '--ip', '192.0.2.1', HAM]);
    const sbl = symbolsOf(o).find((s) => s.name === 'RBL_ZEN_SBL');
    expect(sbl?.score).toBe(4);
    expect(sbl?.options?.join(' ')).toContain('192.0.2.1');
  });

  it('counts any 127.0.0.0/8 answer of another zone as a listing with the default score', async () => {
    const o = await scanDns(['--rbl', 'other.test', '--ip', '192.0.2.1', HAM]);
    expect(o?.symbols).toContainEqual(expect.objectContaining({ name: 'RBL_OTHER', score: 2 }));
    const clean = await scanDns(['--rbl', 'other.test', '--ip', '192.0.2.55', HAM]);
    expect(namesOf(clean)).not.toContain('RBL_OTHER');
  });

  it('checks the Received hops of a saved message when no client IP is given', async () => {
    const msg = message(
      'relayed',
      'hi',
      'Received: from relay.example.net (relay.example.net [192.0.2.4])\r\n\tby mx.example.org; Thu, 26 Nov 2026 10:00:00 +0000\r\n',
    );
    const names = namesOf(await scanDns(['--rbl', 'zen=zen.test', '-'], msg));
    expect(names.some((n) => /ZEN_XBL/.test(n))).toBe(true);
  });

  it('looks up link domains with --uribl', async () => {
    const msg = message('links', 'Visit http://www.spammer-offers.com/offer now');
    const o = await scanDns(['--uribl', 'dbl=dbl.test', '-'], msg);
    expect(o?.symbols).toContainEqual(expect.objectContaining({ name: 'DBL_SPAM', score: 6.5 }));
  });

  it('checks the HELO and sender domains with a DBL-style list given to --rbl', async () => {
    const o = await scanDns([
      '--rbl',
      'dbl=dbl.test',
      '--helo',
      'mail.spammer-offers.com',
      '--from',
      'promo@spammer-offers.com',
      HAM,
    ]);
    const dbl = symbolsOf(o).find((s) => s.name === 'DBL_SPAM');
    expect(dbl?.score).toBe(6.5);
    expect(dbl?.options?.join(' ')).toMatch(/spammer-offers\.com/);
    // The same list against IPs only would find nothing: the preset's checks were kept.
    expect(namesOf(await scanDns(['--rbl', 'dbl=dbl.test', HAM]))).not.toContain('DBL_SPAM');
  });

  it('reads the lists from a config file', async () => {
    const file = yamlConfig(
      `envelope:\n  ip: 192.0.2.1\nrbl:\n  dns: ["127.0.0.1:${dnsPort}"]\n  lists:\n    - { zone: other.test, score: 7.5, name: OTHERLIST }\n`,
    );
    const [o] = await scan(['--config', file, '-'], { stdin: message('x', GTUBE) });
    expect(o?.symbols).toContainEqual(expect.objectContaining({ name: 'RBL_OTHERLIST', score: 7.5 }));
  });
});

describe('--dns failure', () => {
  it('records the lookup failure and still gives a verdict (the lists fail open) when the DNS port is closed', async () => {
    const port = await freePort();
    const [o] = await scan(['--dns', `127.0.0.1:${port}`, '--rbl', 'other.test', '--ip', '192.0.2.1', HAM]);
    expect(o).toMatchObject({ disposition: 'accept' });
    expect(namesOf(o)).toContain('RBL_ERROR');
    expect(o?.errors).toEqual([
      expect.objectContaining({ stage: 'rbl', policy: 'accept', code: expect.stringMatching(/^MEF_RBL_/) }),
    ]);
  });
});

const spamdPort = inject('spamdPort');
const rspamdPort = inject('rspamdPort');

describe('--spamd against a real spamd', () => {
  it("adds SpamAssassin's rules as symbols and its spam call as SA_SPAM", async () => {
    const [gtube, ham] = await scan(['--spamd', `127.0.0.1:${spamdPort}`, 'samples/02-gtube.eml', HAM]);
    expect(namesOf(gtube)).toContain('SA_SPAM');
    expect(namesOf(gtube)).toContain('SA_GTUBE');
    expect(namesOf(ham)).not.toContain('SA_SPAM');
    expect(ham?.errors).toEqual([]);
  });
});

describe('--spamd failure', () => {
  it('records the failure and still gives a verdict (spamd fails open by default) when the port is closed', async () => {
    const port = await freePort();
    const [o] = await scan(['--spamd', `127.0.0.1:${port}`, HAM]);
    expect(o).toMatchObject({ disposition: 'accept' });
    expect(o?.errors).toEqual([
      expect.objectContaining({ policy: 'accept', code: 'MEF_SPAM_SPAMD_UNAVAILABLE' }),
    ]);
  });

  it('exits 1 with tempfail when a config file makes spamd failures hold the mail', async () => {
    const port = await freePort();
    const file = yamlConfig(`spamassassin:\n  host: "127.0.0.1:${port}"\n  onError: tempfail\n`);
    const [o] = await scan(['--config', file, HAM], { code: 1 });
    expect(o).toMatchObject({ disposition: 'tempfail' });
  });
});

describe('--rspamd against a real rspamd', () => {
  it("adds rspamd's symbols and follows its reject for GTUBE", async () => {
    const [gtube, ham] = await scan([
      '--rspamd',
      `http://127.0.0.1:${rspamdPort}`,
      'samples/02-gtube.eml',
      HAM,
    ]);
    expect(gtube).toMatchObject({ disposition: 'reject' });
    expect(namesOf(gtube)).toContain('GTUBE');
    expect(ham?.errors).toEqual([]);
    expect(symbolsOf(ham).length).toBeGreaterThan(0);
  });
});

describe('--rspamd failure', () => {
  it('records the failure and still gives a verdict when the port is closed', async () => {
    const port = await freePort();
    const [o] = await scan(['--rspamd', `http://127.0.0.1:${port}`, HAM]);
    expect(o).toMatchObject({ disposition: 'accept' });
    expect(o?.errors).toEqual([
      expect.objectContaining({ policy: 'accept', code: 'MEF_SPAM_RSPAMD_UNAVAILABLE' }),
    ]);
  });

  it('exits 2 on an rspamd URL that is not http://', async () => {
    const r = await mef(['scan', '--rspamd', 'ftp://127.0.0.1:1', 'samples']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rspamd\.url: expected an http:\/\/ URL/);
  });
});

describe('--stage-timeout', () => {
  it('bounds a scanner that accepts and never answers (a fake hanging clamd): tempfail after the stage timeout, exit 1', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      // Reads everything, answers nothing.
      sockets.add(s);
      s.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const t0 = Date.now();
      const [o] = await scan(['--stage-timeout', '700', '--clamd', `127.0.0.1:${port}`, HAM], { code: 1 });
      const took = Date.now() - t0;
      expect(o).toMatchObject({ disposition: 'tempfail' });
      expect(o?.errors).toEqual([expect.objectContaining({ stage: 'clamav', kind: 'timeout' })]);
      expect(took).toBeLessThan(15_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
