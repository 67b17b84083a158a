/**
 * BIND's named on loopback, authoritative only (no recursion, so it never asks another server),
 * for SPF, DKIM, DMARC and MX records.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsAnswers } from './probes.js';
import { freeTcpUdpPort, type RunningServer, readyOnFreePort, requireBinary, tempDir } from './process.js';

/** One zone that named serves: records in zone-file syntax, relative to `origin`. */
export interface Zone {
  /** The zone's name, such as `pass.test`. */
  readonly origin: string;
  /** Resource records, one per line, such as `@ 300 IN TXT "v=spf1 -all"`. */
  readonly records: readonly string[];
  /** The zone's default TTL in s (default 300). */
  readonly ttl?: number;
}

export interface NamedServer extends RunningServer {
  readonly pid: number;
  /** `127.0.0.1:PORT`, as a resolver's server list takes it. */
  readonly server: string;
}

/** A TXT value split into quoted strings of at most 255 bytes (a DKIM key is longer). */
export function txt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 250) parts.push(`"${value.slice(i, i + 250)}"`);
  return parts.join(' ');
}

function zoneFile(z: Zone): string {
  return [
    `$TTL ${z.ttl ?? 300}`,
    `@ IN SOA ns.${z.origin}. hostmaster.${z.origin}. 1 3600 600 86400 60`,
    `@ IN NS ns.${z.origin}.`,
    `ns IN A 127.0.0.1`,
    ...z.records,
    '',
  ].join('\n');
}

function namedConf(dir: string, port: number, zoneConf: readonly string[]): string {
  return [
    'options {',
    `  directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    // Two test files may pick the same free port at once: with the default SO_REUSEPORT both
    // servers would share it and answer each other's queries (with other DKIM keys).
    '  reuseport no;',
    '  recursion no;',
    '  allow-query { 127.0.0.1; };',
    '  dnssec-validation no;',
    '  notify no;',
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    '};',
    'controls { };',
    ...zoneConf,
    '',
  ].join('\n');
}

/** Starts `named -g -c CONF -p PORT` with `zones`; resolves once it answers for a zone of its own. */
export async function startNamed(
  zones: readonly Zone[],
  options: { readonly startTimeoutMs?: number } = {},
): Promise<NamedServer> {
  const bin = requireBinary('named', 'bind9');
  const dir = tempDir('named');
  chmodSync(dir, 0o755);
  // A zone of this server's own: the readiness probe asks for it, so an answer from another
  // named that holds the port proves nothing, and this start retries on another port.
  const own: Zone = { origin: `r${randomBytes(6).toString('hex')}.mef-ready`, records: [] };
  const zoneConf = [...zones, own].map((z, i) => {
    writeFileSync(join(dir, `z${i}.zone`), zoneFile(z));
    return `zone "${z.origin}" { type primary; file "${join(dir, `z${i}.zone`)}"; };`;
  });
  const conf = join(dir, 'named.conf');
  const started = await readyOnFreePort(
    'named',
    dir,
    freeTcpUdpPort,
    (port) => {
      writeFileSync(conf, namedConf(dir, port, zoneConf));
      return spawn(bin, ['-g', '-c', conf, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
    (port) => dnsAnswers(port, own.origin, 'SOA', false),
    { timeoutMs: options.startTimeoutMs ?? 10_000, graceMs: 3000 },
  );
  return {
    host: '127.0.0.1',
    port: started.port,
    pid: started.pid,
    server: `127.0.0.1:${started.port}`,
    stop: started.stop,
  };
}
