import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback DNS server (rbldnsd's generic dataset) answering MX records. */
export interface TestDns {
  readonly server: string;
  stop(): Promise<void>;
}

/** Where rbldnsd is, or undefined when it is not installed. */
export function findRbldnsd(): string | undefined {
  for (const p of ['/usr/sbin/rbldnsd', '/usr/local/sbin/rbldnsd', '/usr/bin/rbldnsd']) {
    if (!spawnSync(p, ['-h'], { stdio: 'ignore' }).error) return p;
  }
  return undefined;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Serves zone `test` with `lines` of rbldnsd's generic dataset (`NAME TTL MX PRIO HOST`, names
 * relative to `test`); resolves once it answers.
 */
export async function startDns(bin: string, lines: readonly string[]): Promise<TestDns> {
  const dir = mkdtempSync(join(tmpdir(), 'mef-admin-dns-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'zone.generic'), `${lines.join('\n')}\n`);
  chmodSync(join(dir, 'zone.generic'), 0o644);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const args = ['-n', '-b', `127.0.0.1/${port}`, '-w', dir, '-t', '300', '-p', join(dir, 'pid')];
    if (process.getuid?.() === 0) args.push('-u', 'rbldns');
    const child: ChildProcess = spawn(bin, [...args, 'test:generic:zone.generic'], { stdio: 'ignore' });
    const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      try {
        await resolver.resolveMx(`probe.test`);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA') break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (child.exitCode === null) {
      return {
        server: `127.0.0.1:${port}`,
        stop: async () => {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('rbldnsd did not start');
}
