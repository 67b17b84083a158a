import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One zone that named serves: records in zone-file syntax, relative to `origin`. */
export interface Zone {
  /** The zone's name, such as `pass.test`. */
  readonly origin: string;
  /** Resource records, one per line, such as `@ 300 IN TXT "v=spf1 -all"`. */
  readonly records: readonly string[];
  /** The zone's default TTL in s (default 300). */
  readonly ttl?: number;
}

/** A running named. */
export interface Named {
  readonly port: number;
  readonly pid: number;
  /** `127.0.0.1:PORT`, as a resolver's server list takes it. */
  readonly server: string;
  stop(): Promise<void>;
}

const ADVICE = 'install it with: sudo bash scripts/install-servers.sh (Debian package bind9)';

/** Where named is; throws with install advice when it is not installed (the tests never skip). */
export function findNamed(): string {
  for (const p of ['/usr/sbin/named', '/usr/local/sbin/named']) {
    const r = spawnSync(p, ['-v'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return p;
  }
  throw new Error(`named (BIND 9) is not installed; ${ADVICE}`);
}

/** A port free on 127.0.0.1 for both UDP and TCP right now (named listens on both). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free loopback port for named');
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

async function answers(port: number, name: string): Promise<boolean> {
  const r = new dns.Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  try {
    await r.resolveSoa(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a named.conf and the zone files into a fresh temp dir and starts BIND's named in
 * the foreground (`named -g -c CONF -p PORT`) on 127.0.0.1, authoritative only (no
 * recursion, so it never asks another server); resolves once it answers for the first zone.
 */
export async function startNamed(zones: readonly Zone[]): Promise<Named> {
  const bin = findNamed();
  const dir = mkdtempSync(join(tmpdir(), 'mef-named-'));
  chmodSync(dir, 0o755);
  const zoneConf = zones.map((z, i) => {
    writeFileSync(join(dir, `z${i}.zone`), zoneFile(z));
    return `zone "${z.origin}" { type primary; file "${join(dir, `z${i}.zone`)}"; };`;
  });
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'named.conf');
    writeFileSync(
      conf,
      [
        'options {',
        `  directory "${dir}";`,
        `  listen-on port ${port} { 127.0.0.1; };`,
        '  listen-on-v6 { none; };',
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
      ].join('\n'),
    );
    const child: ChildProcess = spawn(bin, ['-g', '-c', conf, '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      if (await answers(port, zones[0]?.origin ?? '.')) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (up && child.pid !== undefined) {
      const pid = child.pid;
      return {
        port,
        pid,
        server: `127.0.0.1:${port}`,
        async stop() {
          if (child.exitCode === null) {
            process.kill(pid, 'SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) process.kill(pid, 'SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = stderr;
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`named did not start: ${lastError}`);
}
