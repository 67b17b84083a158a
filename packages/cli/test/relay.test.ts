import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freshHome, GTUBE, mef, message, tempDir } from './helpers.js';

const SINK = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find(
  (p) => spawnSync('test', ['-x', p]).status === 0,
);

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Postfix's smtp-sink as the destination; returns its port and the messages it received. */
async function startSink(): Promise<{ port: number; messages: () => string[] }> {
  if (!SINK)
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); run sudo bash scripts/install-servers.sh',
    );
  const dir = mkdtempSync(join(tmpdir(), 'mef-cli-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child = spawn(SINK, ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, `127.0.0.1:${port}`, '16'], {
    stdio: 'ignore',
  });
  cleanups.push(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(20);
  }
  return { port, messages: () => readdirSync(dir).map((f) => readFileSync(join(dir, f), 'latin1')) };
}

/** Starts `mef relay --config FILE`; resolves with the port it reports. */
async function startRelay(
  file: string,
): Promise<{ child: ChildProcess; port: number; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [inject('bin'), 'relay', '--config', file], {
    env: { PATH: process.env.PATH ?? '', MEF_HOME: freshHome() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  cleanups.push(() => child.kill('SIGKILL'));
  for (let i = 0; i < 200 && !/listening on/.test(err) && child.exitCode === null; i++) await sleep(25);
  const m = /listening on [^ ]+:(\d+)/.exec(err);
  if (!m) throw new Error(`mef relay did not start: ${err}`);
  return { child, port: Number(m[1]), stdout: () => out, stderr: () => err };
}

/** One SMTP transaction by hand; returns every reply. */
async function smtp(port: number, rcpt: string, body: string): Promise<string[]> {
  const s = connect({ host: '127.0.0.1', port });
  s.setEncoding('latin1');
  let buf = '';
  const replies: string[] = [];
  const next = async () => {
    for (let i = 0; i < 400; i++) {
      const m = /^(\d{3}) .*\r\n/m.exec(buf);
      if (m) {
        buf = buf.slice((m.index ?? 0) + m[0].length);
        replies.push(m[0].trim());
        return m[0];
      }
      await sleep(25);
    }
    throw new Error(`no reply; so far ${replies.join(' | ')}`);
  };
  s.on('data', (d: string) => {
    buf += d;
  });
  // A reset after the last reply (the relay closed first) is no failure; a reply that never
  // comes fails in next().
  s.on('error', () => {});
  await next();
  for (const line of ['EHLO client.test', 'MAIL FROM:<sender@example.test>', `RCPT TO:<${rcpt}>`]) {
    s.write(`${line}\r\n`);
    if (!(await next()).startsWith('250')) break;
  }
  if (replies.at(-1)?.startsWith('250')) {
    s.write('DATA\r\n');
    if ((await next()).startsWith('354')) {
      s.write(`${body}\r\n.\r\n`);
      await next();
    }
  }
  s.write('QUIT\r\n');
  s.end();
  return replies;
}

describe('mef relay', () => {
  it('runs from a config file, filters with the mef scan defaults, reloads domains on SIGHUP and stops on SIGTERM', async () => {
    const sink = await startSink();
    const dir = tempDir();
    const file = join(dir, 'mef.json');
    const relay = (domains: Record<string, unknown>) =>
      JSON.stringify({
        relay: { listen: { host: '127.0.0.1', port: 0 }, hostname: 'mx1.example.net', domains },
      });
    writeFileSync(file, relay({ 'example.net': { destination: `127.0.0.1:${sink.port}` } }));
    const r = await startRelay(file);

    expect((await smtp(r.port, 'alice@example.net', message('hello', 'clean mail'))).at(-1)).toMatch(/^250/);
    expect((await smtp(r.port, 'alice@example.net', message('spam', GTUBE))).at(-1)).toMatch(/^554/);
    expect((await smtp(r.port, 'bob@example.org', message('hello', 'not ours yet'))).at(-1)).toMatch(/^550/);
    expect(sink.messages().filter((m) => m.includes('clean mail'))).toHaveLength(1);

    writeFileSync(
      file,
      relay({
        'example.net': { destination: `127.0.0.1:${sink.port}` },
        'example.org': { destination: `127.0.0.1:${sink.port}` },
      }),
    );
    r.child.kill('SIGHUP');
    for (let i = 0; i < 100 && !/reloaded/.test(r.stderr()); i++) await sleep(25);
    expect((await smtp(r.port, 'bob@example.org', message('hello', 'now ours'))).at(-1)).toMatch(/^250/);

    const records = r
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { disposition: string; domain: string });
    expect(records.map((x) => [x.domain, x.disposition])).toEqual([
      ['example.net', 'accept'],
      ['example.net', 'reject'],
      ['example.org', 'accept'],
    ]);
    r.child.kill('SIGTERM');
    const code = await new Promise((resolve) => r.child.once('exit', resolve));
    expect(code).toBe(0);
  });

  it('refuses a file without a relay section, and a bad network, with exit 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), '{}');
    const a = await mef(['relay', '--config', join(dir, 'a.json')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/relay: expected the relay section/);
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ relay: { outbound: { networks: ['127.0.0.0/33'], smarthost: '127.0.0.1:25' } } }),
    );
    const b = await mef(['config', 'check', join(dir, 'b.json')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/relay\.outbound\.networks\[0\]: .*CIDR.*"127\.0\.0\.0\/33"/);
  });
});

describe('bounds of the command line', () => {
  it('caps --workers', async () => {
    const r = await mef(['scan', '--workers', '64', '-'], { stdin: message('x', 'y') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at most 16 workers/);
  });

  it('stops reading a config file past 1 MiB (--config /dev/urandom)', async () => {
    const started = Date.now();
    const r = await mef(['scan', '--config', '/dev/urandom', '-'], { stdin: message('x', 'y') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/larger than 1048576 bytes/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('mef relay with the admin interface’s database', () => {
  it('seeds the store from the file, logs each verdict into it, and follows a change made in the store', async () => {
    const { openStore, searchTransactions, updateDomain } = await import('@mef/admin');
    const sink = await startSink();
    const dir = tempDir();
    const file = join(dir, 'mef.json');
    writeFileSync(
      file,
      JSON.stringify({
        admin: { listen: { host: '127.0.0.1', port: 0 }, database: 'admin.db' },
        relay: {
          listen: { host: '127.0.0.1', port: 0 },
          hostname: 'mx1.example.net',
          domains: { 'example.net': { destination: `127.0.0.1:${sink.port}`, monitor: true } },
        },
      }),
    );
    const r = await startRelay(file);
    // Monitor mode from the seed: GTUBE is tagged and delivered.
    expect((await smtp(r.port, 'alice@example.net', message('spam', GTUBE))).at(-1)).toMatch(/^250/);
    const store = await openStore(join(dir, 'admin.db'));
    try {
      let rows: Awaited<ReturnType<typeof searchTransactions>> = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        rows = await searchTransactions(store, 'example.net');
        if (!rows.length) await sleep(50);
      }
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows[0])).toMatch(/GTUBE/);
      // Monitor mode let it through; the verdict log says what it would have done.
      expect(rows[0]?.disposition).toBe('would-reject');
      // The administrator switches monitor mode off; the relay picks it up within its poll.
      await updateDomain(
        store,
        'example.net',
        { destination: `127.0.0.1:${sink.port}`, monitor: false },
        'operator',
      );
      let last = '';
      for (let i = 0; i < 40 && !last.startsWith('554'); i++) {
        await sleep(250);
        last = (await smtp(r.port, 'alice@example.net', message('spam again', GTUBE))).at(-1) ?? '';
      }
      expect(last).toMatch(/^554/);
    } finally {
      await store.close();
    }
  });
});
