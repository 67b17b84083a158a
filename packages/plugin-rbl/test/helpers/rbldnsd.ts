import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One zone data file: `zone` served from `content` with rbldnsd's dataset `type`. */
export interface ZoneFile {
  zone: string;
  type: 'ip4set' | 'ip4trie' | 'ip6trie' | 'ip6tset' | 'dnset';
  content: string;
}

/** A running rbldnsd. */
export interface Rbldnsd {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}

/** Where rbldnsd is, or undefined when it is not installed. */
export function findRbldnsd(): string | undefined {
  for (const p of ['/usr/sbin/rbldnsd', '/usr/local/sbin/rbldnsd', '/usr/bin/rbldnsd']) {
    const r = spawnSync(p, ['-h'], { stdio: 'ignore' });
    if (!r.error) return p;
  }
  return undefined;
}

/** A UDP port free on 127.0.0.1 right now. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number, name: string): Promise<boolean> {
  const r = new dns.Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  try {
    await r.resolve4(name);
    return true;
  } catch (err) {
    // NXDOMAIN, NODATA and REFUSED are answers too: the server is up.
    const code = (err as { code?: string }).code;
    return code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED';
  }
}

/**
 * Writes the zone files into a fresh temp dir (readable by the `rbldns` user) and starts
 * rbldnsd on a free loopback UDP port; resolves once it answers.
 */
export async function startRbldnsd(bin: string, zones: readonly ZoneFile[]): Promise<Rbldnsd> {
  const dir = mkdtempSync(join(tmpdir(), 'mef-rbldnsd-'));
  chmodSync(dir, 0o755);
  const specs: string[] = [];
  zones.forEach((z, i) => {
    const file = `z${i}.${z.type}`;
    writeFileSync(join(dir, file), z.content);
    chmodSync(join(dir, file), 0o644);
    specs.push(`${z.zone}:${z.type}:${file}`);
  });
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const pidFile = join(dir, 'rbldnsd.pid');
    const args = ['-n', '-b', `127.0.0.1/${port}`, '-w', dir, '-t', '300', '-c', '60s', '-p', pidFile];
    // rbldnsd drops privileges to `rbldns` when started as root.
    if (process.getuid?.() === 0) args.push('-u', 'rbldns');
    const child: ChildProcess = spawn(bin, [...args, ...specs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      if (await answers(port, zones[0]?.zone ?? 'health.invalid')) {
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
        dir,
        async stop() {
          if (child.exitCode === null) {
            process.kill(pid, 'SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
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
  throw new Error(`rbldnsd did not start: ${lastError}`);
}
