/** A private rbldnsd (DNS blocklists, and simple A/TXT/MX zones) on a free loopback UDP port. */
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsAnswers } from './probes.js';
import { freeUdpPort, type RunningServer, readyOnFreePort, requireBinary, tempDir } from './process.js';

/** One zone data file: `zone` served from `content` with rbldnsd's dataset `type`. */
export interface ZoneFile {
  zone: string;
  /** `generic` holds A, TXT and MX records (`@ 3600 MX 10 mx1.filter.test`). */
  type: 'ip4set' | 'ip4trie' | 'ip6trie' | 'ip6tset' | 'dnset' | 'generic';
  content: string;
}

export interface RbldnsdServer extends RunningServer {
  readonly pid: number;
  readonly dir: string;
  /** `127.0.0.1:PORT`, as a resolver's server list takes it. */
  readonly server: string;
}

/**
 * Writes the zone files into a fresh folder (readable by the `rbldns` user) and starts rbldnsd;
 * resolves once it answers a query for the first zone.
 */
export async function startRbldnsd(
  zones: readonly ZoneFile[],
  options: { readonly startTimeoutMs?: number } = {},
): Promise<RbldnsdServer> {
  const bin = requireBinary('rbldnsd', 'rbldnsd');
  const dir = tempDir('rbldnsd');
  chmodSync(dir, 0o755);
  const specs = zones.map((z, i) => {
    const file = `z${i}.${z.type}`;
    writeFileSync(join(dir, file), z.content.endsWith('\n') ? z.content : `${z.content}\n`);
    chmodSync(join(dir, file), 0o644);
    return `${z.zone}:${z.type}:${file}`;
  });
  const started = await readyOnFreePort(
    'rbldnsd',
    dir,
    freeUdpPort,
    (port) => {
      const args = ['-n', '-b', `127.0.0.1/${port}`, '-w', dir, '-t', '300', '-c', '60s'];
      args.push('-p', join(dir, 'rbldnsd.pid'));
      // rbldnsd drops privileges to `rbldns` when started as root.
      if (process.getuid?.() === 0) args.push('-u', 'rbldns');
      return spawn(bin, [...args, ...specs], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
    (port) => dnsAnswers(port, zones[0]?.zone ?? 'health.invalid', 'A'),
    { timeoutMs: options.startTimeoutMs ?? 5_000, graceMs: 2000 },
  );
  return { host: '127.0.0.1', ...started, server: `127.0.0.1:${started.port}` };
}
