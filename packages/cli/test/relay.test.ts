import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { relayWorkerCount } from '@mef/relay';
import {
  type CommandProcess,
  type SinkServer,
  startCommand,
  startSink as startTestSink,
} from '@mef/test-servers';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freshHome, GTUBE, mef, message, tempDir } from './helpers.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** Postfix's smtp-sink as the destination, stopped after the test. */
async function startSink(): Promise<SinkServer> {
  const sink = await startTestSink({ backlog: 16 });
  cleanups.push(() => sink.stop());
  return sink;
}

/** Starts `mef relay --config FILE`; resolves with the port it reports. */
async function startRelay(file: string): Promise<CommandProcess & { port: number }> {
  const relay = await startCommand(
    process.execPath,
    [inject('bin'), 'relay', '--config', file],
    /listening on [^ ]+:(\d+)/,
    {
      env: { PATH: process.env.PATH ?? '', MEF_HOME: freshHome() },
      timeoutMs: 30_000,
    },
  );
  cleanups.push(() => relay.child.kill('SIGKILL'));
  return { ...relay, port: Number(relay.ready) };
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
  // The relay may reset the connection after its last reply: that is not this test's failure.
  s.on('error', () => undefined);
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

/** A raw SMTP session, read one reply at a time. */
async function dialog(port: number) {
  const s = connect({ host: '127.0.0.1', port });
  s.setEncoding('latin1');
  let buf = '';
  s.on('data', (d: string) => {
    buf += d;
  });
  s.on('error', () => undefined);
  cleanups.push(() => s.destroy());
  const reply = async (): Promise<string> => {
    for (let i = 0; i < 800; i++) {
      const m = /^(\d{3}) .*\r\n/m.exec(buf);
      if (m) {
        buf = buf.slice((m.index ?? 0) + m[0].length);
        return m[0].trim();
      }
      await sleep(25);
    }
    return '(timeout)';
  };
  await reply();
  return {
    reply,
    write: (d: string) => s.write(d),
    cmd: (line: string) => {
      s.write(`${line}\r\n`);
      return reply();
    },
    close: () => s.destroy(),
  };
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
    // `relay.workers` unset is `auto`: one process per CPU (one CPU: a single process, no worker
    // count in the line).
    const processes = relayWorkerCount(undefined, availableParallelism());
    expect(/\((\d+) workers/.exec(r.stderr())?.[1] ?? '1').toBe(String(processes));

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

    // The log is written asynchronously: wait for the third line.
    for (let i = 0; i < 200 && r.stdout().trim().split('\n').length < 3; i++) await sleep(25);
    const records = r
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { disposition: string; domain: string });
    // With more than one worker process the primary writes the records in the order they reach
    // it, which need not be the order the transactions ended: compare them as a set.
    expect(records.map((x) => `${x.domain} ${x.disposition}`).sort()).toEqual([
      'example.net accept',
      'example.net reject',
      'example.org accept',
    ]);
    r.child.kill('SIGTERM');
    const code = await new Promise((resolve) => r.child.once('exit', resolve));
    expect(code).toBe(0);
  });

  it('runs the message phase in a worker thread with relay.threads: 1: GTUBE refused, clean mail delivered, new threads after a reload', async () => {
    const sink = await startSink();
    const file = join(tempDir(), 'mef.json');
    const relay = (threads: number) =>
      JSON.stringify({
        relay: {
          listen: { host: '127.0.0.1', port: 0 },
          hostname: 'mx1.example.net',
          threads,
          domains: { 'example.net': { destination: `127.0.0.1:${sink.port}` } },
        },
      });
    writeFileSync(file, relay(1));
    const r = await startRelay(file);
    expect(r.stderr()).toMatch(/listening on .* \(the message phase in 1 thread\)/);
    expect((await smtp(r.port, 'alice@example.net', message('hello', 'clean mail'))).at(-1)).toMatch(/^250/);
    expect((await smtp(r.port, 'alice@example.net', message('spam', GTUBE))).at(-1)).toMatch(/^554/);
    // A reload builds the next configuration's threads; the new ones scan too.
    writeFileSync(file, relay(2));
    r.child.kill('SIGHUP');
    for (let i = 0; i < 200 && !/reloaded/.test(r.stderr()); i++) await sleep(25);
    expect((await smtp(r.port, 'alice@example.net', message('spam 2', GTUBE))).at(-1)).toMatch(/^554/);
    expect((await smtp(r.port, 'alice@example.net', message('hello 2', 'clean again'))).at(-1)).toMatch(
      /^250/,
    );
    const delivered = sink.messages();
    expect(delivered).toHaveLength(2);
    expect(delivered.every((m) => /Received: from client\.test/.test(m))).toBe(true);
    for (let i = 0; i < 200 && r.stdout().trim().split('\n').length < 4; i++) await sleep(25);
    const records = r
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { disposition: string; symbols: string[] });
    // With several worker processes (auto: one per CPU) each writes its lines in batches: the
    // order between them is not fixed.
    expect(records.map((x) => x.disposition).sort()).toEqual(['accept', 'accept', 'reject', 'reject']);
    for (const x of records.filter((y) => y.disposition === 'reject')) expect(x.symbols).toContain('GTUBE');
    r.child.kill('SIGTERM');
    expect(await new Promise((resolve) => r.child.once('exit', resolve))).toBe(0);
  });

  it('reloads the whole file on SIGHUP (filters, limits, outbound) while a transaction in flight finishes on the old one', async () => {
    const sink = await startSink();
    const dir = tempDir();
    const file = join(dir, 'mef.json');
    const domains = { 'example.net': { destination: `127.0.0.1:${sink.port}` } };
    // Before: no spam rules, five recipients per message, no outbound relaying.
    writeFileSync(
      file,
      JSON.stringify({
        rules: { enabled: false },
        relay: {
          listen: { host: '127.0.0.1', port: 0 },
          hostname: 'mx1.example.net',
          domains,
          limits: { recipients: 5 },
        },
      }),
    );
    const r = await startRelay(file);
    // A transaction in flight: GTUBE half uploaded when the signal comes.
    const open = await dialog(r.port);
    for (const line of ['EHLO client.test', 'MAIL FROM:<sender@example.test>', 'RCPT TO:<alice@example.net>'])
      expect(await open.cmd(line)).toMatch(/^250/);
    expect(await open.cmd('DATA')).toMatch(/^354/);
    const gtube = message('in flight', GTUBE);
    open.write(gtube.slice(0, 60));

    // After: the rules on, one recipient per message, 127.0.0.0/8 may relay to the smarthost.
    writeFileSync(
      file,
      JSON.stringify({
        relay: {
          listen: { host: '127.0.0.1', port: 0 },
          hostname: 'mx1.example.net',
          domains,
          limits: { recipients: 1 },
          outbound: { networks: ['127.0.0.0/8'], smarthost: `127.0.0.1:${sink.port}` },
        },
      }),
    );
    r.child.kill('SIGHUP');
    for (let i = 0; i < 200 && !/reloaded/.test(r.stderr()); i++) await sleep(25);
    expect(r.stderr()).toMatch(/reloaded .*domains example\.net/);

    // The transaction in flight is not dropped: it finishes under the rules it started with.
    open.write(`${gtube.slice(60)}\r\n.\r\n`);
    expect(await open.reply()).toMatch(/^250/);
    open.close();
    expect(sink.messages().filter((m) => m.includes('in flight'))).toHaveLength(1);

    // New sessions get the new file: GTUBE refused, a second recipient deferred, outbound relayed.
    expect((await smtp(r.port, 'alice@example.net', message('spam', GTUBE))).at(-1)).toMatch(/^554/);
    const two = await dialog(r.port);
    for (const line of ['EHLO client.test', 'MAIL FROM:<sender@example.test>', 'RCPT TO:<alice@example.net>'])
      expect(await two.cmd(line)).toMatch(/^250/);
    expect(await two.cmd('RCPT TO:<bob@example.net>')).toMatch(/^452 4\.5\.3/);
    two.close();
    expect((await smtp(r.port, 'carol@elsewhere.test', message('outbound', 'relayed out'))).at(-1)).toMatch(
      /^250/,
    );
    expect(sink.messages().filter((m) => m.includes('relayed out'))).toHaveLength(1);

    // One log line per transaction, with each stage's time (written asynchronously: wait for it).
    for (let i = 0; i < 200 && r.stdout().trim().split('\n').length < 3; i++) await sleep(25);
    const records = r
      .stdout()
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            disposition: string;
            stages?: Record<string, Record<string, number>>;
            scanMs: number;
          },
      );
    // Two workers each write their lines in batches: the order between the workers is not fixed.
    expect(records.map((x) => x.disposition).sort()).toEqual(['accept', 'accept', 'reject']);
    const scanned = records.find((x) => x.disposition === 'reject');
    expect(Object.keys(scanned?.stages?.message ?? {})).toContain('spam-rules');
    expect(typeof scanned?.stages?.message?.['spam-rules']).toBe('number');
    r.child.kill('SIGTERM');
    expect(await new Promise((resolve) => r.child.once('exit', resolve))).toBe(0);
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

/** The inode of the socket listening on 127.0.0.1:`port` (from /proc/net/tcp). */
function listeningInode(port: number): string | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === '0A') return f[9];
  }
  return undefined;
}

/** Whether process `pid` holds the socket with this inode among its open files. */
function holdsSocket(pid: number, inode: string): boolean {
  return readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

/** A config file of two `mef relay` workers relaying `domains` to the sink, plus `relay` keys. */
function twoWorkers(sinkPort: number, domains: string[], relay: Record<string, unknown> = {}): string {
  return JSON.stringify({
    relay: {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: 'mx1.example.net',
      workers: 2,
      domains: Object.fromEntries(domains.map((d) => [d, { destination: `127.0.0.1:${sinkPort}` }])),
      ...relay,
    },
  });
}

/** The relay's log lines so far, parsed. */
function logged<T>(r: { stdout: () => string }): T[] {
  return r
    .stdout()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

describe('mef relay with workers', () => {
  it('serves from every worker (the kernel spreads the connections), reloads each on SIGHUP, sums their metrics, and stops them all', async () => {
    const sink = await startSink();
    const dir = tempDir();
    const file = join(dir, 'mef.json');
    const write = (domains: string[]) =>
      writeFileSync(file, twoWorkers(sink.port, domains, { metrics: { host: '127.0.0.1', port: 0 } }));
    write(['example.net']);
    const r = await startRelay(file);
    // The default: every worker accepts from the shared socket.
    expect(r.stderr()).toMatch(/\(2 workers, kernel scheduling; metrics on http:\/\/127\.0\.0\.1:\d+\)/);
    const records = () => logged<{ pid: number; domain: string; disposition: string }>(r);
    // The log is written asynchronously: wait for every line.
    const lines = async (n: number) => {
      for (let i = 0; i < 200 && records().length < n; i++) await sleep(25);
    };
    // A worker that is free takes the next connection: with 8 sessions at once, rounds of them
    // (at most 10) until both workers have served this domain. Every message must be accepted.
    let sent = 0;
    const untilBoth = async (rcpt: string, subject: string, domain: string) => {
      for (let round = 0; round < 10; round++) {
        const replies = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            smtp(r.port, rcpt, message(`${subject} ${round}.${i}`, 'clean')),
          ),
        );
        for (const x of replies) expect(x.at(-1)).toMatch(/^250/);
        sent += 8;
        await lines(sent);
        if (
          new Set(
            records()
              .filter((x) => x.domain === domain)
              .map((x) => x.pid),
          ).size === 2
        )
          return;
      }
    };
    await untilBoth('alice@example.net', 'one', 'example.net');
    const pids = new Set(records().map((x) => x.pid));
    expect(pids.size).toBe(2);
    // Kernel scheduling: each worker holds the listening socket and accepts from it itself.
    const inode = listeningInode(r.port) as string;
    expect(inode).toMatch(/^\d+$/);
    for (const pid of pids) expect(holdsSocket(pid, inode)).toBe(true);

    write(['example.net', 'example.org']);
    r.child.kill('SIGHUP');
    for (let i = 0; i < 400 && !/reloaded/.test(r.stderr()); i++) await sleep(25);
    // One line, once every worker has applied the file.
    expect(r.stderr()).toMatch(/reloaded .*domains example\.net, example\.org \(2 workers\)/);
    // Both workers took the new domain: each served it.
    await untilBoth('bob@example.org', 'two', 'example.org');
    const org = records().filter((x) => x.domain === 'example.org');
    expect(org.length).toBeGreaterThanOrEqual(8);
    expect(new Set(org.map((x) => x.disposition))).toEqual(new Set(['accept']));
    expect(new Set(org.map((x) => x.pid)).size).toBe(2);
    // Every 250 is a message at the destination.
    for (
      let i = 0;
      i < 200 && sink.messages().filter((m) => /Subject: (one|two) /.test(m)).length < sent;
      i++
    )
      await sleep(25);
    expect(sink.messages().filter((m) => /Subject: (one|two) /.test(m))).toHaveLength(sent);

    const metricsUrl = /metrics on (http:\S+)\)/.exec(r.stderr())?.[1] as string;
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(text).toMatch(
      new RegExp(`mef_relay_transactions_total\\{outcome="accept",direction="inbound"\\} ${sent}\\b`),
    );
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);

    r.child.kill('SIGTERM');
    expect(await new Promise((resolve) => r.child.once('exit', resolve))).toBe(0);
    expect(r.stderr()).toMatch(/stopping/);
  });

  it('with relay.scheduling: round-robin the primary accepts and hands the connections to the workers in turn', async () => {
    const sink = await startSink();
    const file = join(tempDir(), 'mef.json');
    writeFileSync(file, twoWorkers(sink.port, ['example.net'], { scheduling: 'round-robin' }));
    const r = await startRelay(file);
    expect(r.stderr()).toMatch(/\(2 workers, round-robin scheduling\)/);
    // One connection after the other: the next worker each time.
    for (let i = 0; i < 4; i++)
      expect((await smtp(r.port, 'alice@example.net', message(`rr ${i}`, 'clean'))).at(-1)).toMatch(/^250/);
    for (let i = 0; i < 200 && logged(r).length < 4; i++) await sleep(25);
    const pids = logged<{ pid: number }>(r).map((x) => x.pid);
    expect(pids).toHaveLength(4);
    expect(new Set(pids).size).toBe(2);
    // Only the primary holds the listening socket.
    const inode = listeningInode(r.port) as string;
    expect(inode).toMatch(/^\d+$/);
    expect(holdsSocket(r.child.pid as number, inode)).toBe(true);
    for (const pid of new Set(pids)) expect(holdsSocket(pid, inode)).toBe(false);
    r.child.kill('SIGTERM');
    expect(await new Promise((resolve) => r.child.once('exit', resolve))).toBe(0);
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
  it('as one process (workers: 1): seeds the store from the file, logs each verdict into it, and follows a change made in the store', async () => {
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
          // The single-process path: the relay itself polls the store and writes its verdict log
          // (with more workers the primary does both: see the admin tests' relay-workers.test.ts).
          workers: 1,
          domains: { 'example.net': { destination: `127.0.0.1:${sink.port}`, monitor: true } },
        },
      }),
    );
    const r = await startRelay(file);
    expect(r.stderr()).not.toMatch(/\d+ workers/);
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
      // The administrator switches monitor mode off; the relay picks it up within its 2 s poll
      // and says so: from that line on, every connection sees it, the first one included.
      expect(r.stderr()).not.toMatch(/settings generation/);
      await updateDomain(
        store,
        'example.net',
        { destination: `127.0.0.1:${sink.port}`, monitor: false },
        'operator',
      );
      const line = /mef relay: settings generation 2 from the database in force\n/;
      for (let i = 0; i < 200 && !line.test(r.stderr()); i++) await sleep(50);
      expect(r.stderr()).toMatch(line);
      for (let i = 0; i < 3; i++) {
        const reply = await smtp(r.port, 'alice@example.net', message('spam again', GTUBE));
        expect(reply.at(-1)).toMatch(/^554/);
      }
    } finally {
      await store.close();
    }
  });
});
