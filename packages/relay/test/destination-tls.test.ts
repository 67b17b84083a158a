import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { message, startTransaction } from './support/dialog.js';
import { onCleanup, relay, sink, useCleanup } from './support/harness.js';

useCleanup();

/** Runs openssl; a missing openssl fails with install advice. */
function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'ignore' });
  } catch (err) {
    throw new Error(
      `openssl failed (${(err as Error).message}); install it with: sudo bash scripts/install-servers.sh`,
    );
  }
}

interface Pki {
  dir: string;
  /** The CA that signs the destination's certificates. */
  ca: string;
  /** Another CA, which signed nothing the destination shows. */
  otherCa: string;
  /** A certificate for 127.0.0.1 (an IP subjectAltName), signed by `ca`. */
  good: { key: string; cert: string };
  /** A certificate for other.test only, signed by `ca`. */
  wrongName: { key: string; cert: string };
}

/** A test PKI made with openssl: two CAs and two server certificates. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'mef-relay-pki-'));
  const ca = (name: string) => {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
      ].concat(['-days', '2', '-subj', `/CN=${name}`]),
      dir,
    );
    return join(dir, `${name}.pem`);
  };
  const leaf = (name: string, san: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'test-ca.pem',
        '-CAkey',
        'test-ca.key',
        '-CAcreateserial',
      ].concat(['-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]),
      dir,
    );
    return { key: join(dir, `${name}.key`), cert: join(dir, `${name}.pem`) };
  };
  const caFile = ca('test-ca');
  const otherCa = ca('other-ca');
  return {
    dir,
    ca: caFile,
    otherCa,
    good: leaf('destination', 'IP:127.0.0.1'),
    wrongName: leaf('other', 'DNS:other.test'),
  };
}

let pki: Pki;
beforeAll(() => {
  pki = makePki();
  return () => rmSync(pki.dir, { recursive: true, force: true });
});

/** A destination with STARTTLS (a second relay, with `cert`) in front of a real smtp-sink. */
async function destination(cert: { key: string; cert: string }) {
  const s = await sink();
  const mx2 = await relay({
    hostname: 'mx2.test',
    domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
    tls: cert,
  });
  return { sink: s, port: mx2.port };
}

async function tryDeliver(relayPort: number): Promise<{ rcpt: string; data?: string }> {
  const d = await startTransaction(relayPort);
  onCleanup(async () => d.close());
  const rcpt = await d.cmd('RCPT TO:<x@a.test>');
  if (!rcpt.startsWith('250')) return { rcpt };
  const go = await d.cmd('DATA');
  if (!go.startsWith('354')) return { rcpt, data: go };
  d.write(`${message('tls', 'verified hop')}.\r\n`);
  return { rcpt, data: await d.reply() };
}

describe('TLS required toward a destination verifies its certificate', () => {
  it('delivers when the certificate names the destination host and is signed by the configured CA', async () => {
    const dest = await destination(pki.good);
    const first = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${dest.port}`, tls: 'required' } },
      destinationTls: { ca: pki.ca },
    });
    const r = await tryDeliver(first.port);
    expect(r.rcpt).toMatch(/^250/);
    expect(r.data).toMatch(/^250/);
    expect(dest.sink.messages()).toHaveLength(1);
    expect(dest.sink.messages()[0]).toMatch(/by mx2\.test with ESMTPS id/);
  });

  it.each([
    { why: 'the certificate is signed by another CA', cert: () => pki.good, ca: () => pki.otherCa },
    { why: 'the certificate names another host', cert: () => pki.wrongName, ca: () => pki.ca },
    {
      why: 'no CA file is set and the system store does not know the signer',
      cert: () => pki.good,
      ca: () => undefined,
    },
  ])('tempfails (451 4.4.1) and delivers nothing when $why', async ({ cert, ca }) => {
    const dest = await destination(cert());
    const caFile = ca();
    const first = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${dest.port}`, tls: 'required' } },
      ...(caFile ? { destinationTls: { ca: caFile } } : {}),
    });
    const r = await tryDeliver(first.port);
    expect(r.rcpt).toMatch(/^451 4\.4\.1 .*TLS/);
    expect(dest.sink.messages()).toHaveLength(0);
  });
});
