/** A private clamd on a free loopback port, with an EICAR signature written here (no download). */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './servers.js';

/** The 68-byte EICAR test string, assembled so that no scanner flags this file. */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

export interface Clamd {
  readonly address: string;
  stop(): Promise<void>;
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write('zPING\0'));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().includes('PONG'));
    });
    s.on('error', () => resolve(false));
  });
}

export async function startClamd(): Promise<Clamd> {
  const bin = ['/usr/sbin/clamd', '/usr/bin/clamd'].find((p) => existsSync(p));
  if (!bin) {
    throw new Error(
      'clamd is not installed (Debian packages clamav-daemon clamdscan); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mef-clamd-'));
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'custom.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      'Foreground yes',
      `DatabaseDirectory ${dir}/db`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `PidFile ${dir}/clamd.pid`,
      `LogFile ${dir}/clamd.log`,
      'MaxThreads 4',
      'Bytecode no',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, [`--config-file=${conf}`], { stdio: 'ignore' });
  const until = Date.now() + 30_000;
  while (!(await pong(port))) {
    if (Date.now() > until || child.exitCode !== null) {
      child.kill('SIGKILL');
      const log = existsSync(join(dir, 'clamd.log')) ? readFileSync(join(dir, 'clamd.log'), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`clamd did not answer zPING on ${port}\n${log}`);
    }
    await sleep(50);
  }
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
