/** A self-signed certificate for STARTTLS and HTTPS tests, made with openssl. */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary, tempDir } from './process.js';

export interface TestCertificate {
  /** Paths of the PEM files. */
  readonly key: string;
  readonly cert: string;
  readonly dir: string;
  /** Removes the folder. */
  remove(): void;
}

/** A 2048-bit RSA key and a certificate for `commonName` valid for two days. */
export function selfSignedCert(commonName = 'localhost'): TestCertificate {
  const openssl = requireBinary('openssl', 'openssl');
  const dir = tempDir('tls');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert];
  const r = spawnSync(openssl, [...args, '-days', '2', '-subj', `/CN=${commonName}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a test certificate: ${r.stderr || r.error?.message}`);
  }
  return { key, cert, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
