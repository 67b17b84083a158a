import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './smtp-sink.js';

const INSTALL = 'install the servers the tests use with: sudo bash scripts/install-servers.sh';

/** rbldnsd on a loopback UDP port, with one ip4set zone listing the given addresses. */
export async function startRbldnsd(
  zone: string,
  listed: readonly string[],
  /** Lines of a `generic` dataset (MX, A, TXT records) instead of a list. */
  generic?: readonly string[],
): Promise<{ port: number; stop: () => Promise<void> }> {
  const bin = ['/usr/sbin/rbldnsd', '/usr/bin/rbldnsd'].find(
    (p) => spawnSync('test', ['-x', p]).status === 0,
  );
  if (!bin) throw new Error(`rbldnsd is not installed (apt-get install rbldnsd); ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'mef-relay-rbldnsd-'));
  chmodSync(dir, 0o755);
  const dataset = generic ? 'generic' : 'ip4set';
  writeFileSync(
    join(dir, `zone.${dataset}`),
    generic
      ? `${generic.join('\n')}\n`
      : `:127.0.0.2:Listed, see http://${zone}/?ip=$\n${listed.join('\n')}\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      '-n',
      '-b',
      `127.0.0.1/${port}`,
      '-w',
      dir,
      '-u',
      'rbldns',
      '-t',
      '300',
      `${zone}:${dataset}:zone.${dataset}`,
    ],
    {
      stdio: 'ignore',
    },
  );
  // Ready when it answers a query.
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      const q = Buffer.from('000101000001000000000000', 'hex');
      const name = Buffer.concat([
        ...`1.0.0.127.${zone}`
          .split('.')
          .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
        Buffer.from([0, 0, 1, 0, 1]),
      ]);
      s.once('message', () => {
        s.close();
        resolve(true);
      });
      s.send(Buffer.concat([q, name]), port, '127.0.0.1');
      setTimeout(() => {
        try {
          s.close();
        } catch {}
        resolve(false);
      }, 100);
    });
    if (ok) break;
    await sleep(20);
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A self-signed certificate made with openssl, for STARTTLS. */
export function selfSignedCert(): { key: string; cert: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mef-relay-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=relay.test',
      ],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    throw new Error(`openssl is needed to make a test certificate (apt-get install openssl); ${INSTALL}`);
  }
  return { key, cert, dir };
}

/** clamd on a loopback TCP port with one signature (the EICAR test file), as SERVERS.md describes. */
export async function startClamd(): Promise<{ port: number; stop: () => Promise<void> }> {
  const bin = ['/usr/sbin/clamd', '/usr/bin/clamd'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!bin) throw new Error(`clamd is not installed (apt-get install clamav-daemon); ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'mef-relay-clamd-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'custom.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      'Foreground yes',
      `DatabaseDirectory ${dir}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `LogFile ${join(dir, 'clamd.log')}`,
      'StreamMaxLength 50M',
      'MaxThreads 4',
      'Bytecode no',
      'User root',
    ].join('\n'),
  );
  const child = spawn(bin, [`--config-file=${conf}`], { stdio: 'ignore' });
  const { connect } = await import('node:net');
  for (let i = 0; i < 300; i++) {
    const pong = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write('zPING\0'));
      s.on('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('PONG'));
      });
      s.on('error', () => resolve(false));
    });
    if (pong) break;
    if (child.exitCode !== null) throw new Error(`clamd exited: see ${join(dir, 'clamd.log')}`);
    await sleep(50);
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
