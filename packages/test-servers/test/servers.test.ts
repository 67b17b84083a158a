import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  answers,
  dnsAnswers,
  eventually,
  greets,
  MissingServerError,
  requireBinary,
  startAll,
  startRbldnsd,
  startRedis,
  startSink,
  stopList,
} from '../src/index.js';
import { freePort, readyOnFreePort } from '../src/process.js';

describe('a server that is not installed', () => {
  it('fails with the Debian package and the install script, never a skip', () => {
    expect(() => requireBinary('mef-no-such-server', 'mef-pkg')).toThrow(MissingServerError);
    expect(() => requireBinary('mef-no-such-server', 'mef-pkg')).toThrow(
      /mef-no-such-server is not installed \(Debian package mef-pkg\); install the servers .* scripts\/install-servers\.sh/,
    );
  });
});

describe('starters', () => {
  it('start on a loopback port, answer, and are gone after stop()', async () => {
    const { redis, sink, dns } = await startAll({
      redis: () => startRedis(),
      sink: () => startSink(),
      dns: () =>
        startRbldnsd([{ zone: 'zen.test', type: 'ip4set', content: ':127.0.0.2:Listed\n127.0.0.2\n' }]),
    });
    expect([redis.host, sink.host, dns.host]).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(await answers(redis.port, 'PING\r\n', /PONG/)).toBe(true);
    expect(await greets(sink.port)).toBe(true);
    expect(await dnsAnswers(dns.port, '2.0.0.127.zen.test', 'A', false)).toBe(true);
    await Promise.all([redis.stop(), sink.stop(), dns.stop()]);
    expect(await answers(redis.port, 'PING\r\n', /PONG/)).toBe(false);
    expect(await greets(sink.port)).toBe(false);
  });

  it('startAll stops the servers that started when another fails', async () => {
    let port = 0;
    const failing = startAll({
      redis: async () => {
        const r = await startRedis();
        port = r.port;
        return r;
      },
      missing: async () => {
        // Let Redis come up first, so there is something to clean up.
        await new Promise((r) => setTimeout(r, 1500));
        throw new MissingServerError('mef-no-such-server', 'mef-pkg');
      },
    });
    await expect(failing).rejects.toThrow(MissingServerError);
    expect(port).toBeGreaterThan(0);
    expect(await answers(port, 'PING\r\n', /PONG/)).toBe(false);
  });
});

describe('readyOnFreePort', () => {
  /** A node child that greets on the port it is given, or exits at once when the port is taken. */
  const listenAt = (port: number) =>
    spawn(
      process.execPath,
      [
        '-e',
        `require('node:net').createServer((s) => s.end('220 ready\\r\\n')).listen(${port}, '127.0.0.1').on('error', () => process.exit(3))`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );

  it('tries the next free port when the first is taken, and removes the folder on stop()', async () => {
    const held = createServer().listen(0, '127.0.0.1');
    await once(held, 'listening');
    const taken = (held.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'mef-retry-'));
    const ports = [taken];
    try {
      const server = await readyOnFreePort(
        'listener',
        dir,
        async () => ports.shift() ?? freePort(),
        listenAt,
        (port) => greets(port),
        { timeoutMs: 5000, graceMs: 1000 },
      );
      expect(server.port).not.toBe(taken);
      expect(await greets(server.port)).toBe(true);
      await server.stop();
      expect(existsSync(dir)).toBe(false);
      expect(await greets(server.port)).toBe(false);
    } finally {
      held.close();
    }
  });

  it('gives up after its attempts with the last error, and removes the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mef-retry-'));
    let tries = 0;
    const held = createServer().listen(0, '127.0.0.1');
    await once(held, 'listening');
    const taken = (held.address() as AddressInfo).port;
    try {
      await expect(
        readyOnFreePort(
          'listener',
          dir,
          async () => {
            tries++;
            return taken;
          },
          listenAt,
          greets,
          { timeoutMs: 2000, attempts: 3 },
        ),
      ).rejects.toThrow(/^listener did not start: listener exited \(3\) before it was ready/);
      expect(tries).toBe(3);
      expect(existsSync(dir)).toBe(false);
    } finally {
      held.close();
    }
  });
});

describe('stopList', () => {
  it('stops the last added first, runs every stop when one fails, throws the first failure', async () => {
    const order: string[] = [];
    const stops = stopList();
    const server = stops.add({ stop: async () => void order.push('server') });
    stops.defer(async () => {
      order.push('failing');
      throw new Error('could not stop');
    });
    stops.defer(async () => void order.push('folder'));
    expect(server).toHaveProperty('stop');
    await expect(stops.stopAll()).rejects.toThrow('could not stop');
    expect(order).toEqual(['folder', 'failing', 'server']);
    await stops.stopAll();
    expect(order).toHaveLength(3);
  });
});

describe('smtp-sink messages()', () => {
  it('does not count a DATA still open (smtp-sink has opened its empty file), and counts it after the dot', async () => {
    const sink = await startSink();
    const socket = createConnection({ host: '127.0.0.1', port: sink.port });
    try {
      let heard = '';
      socket.on('data', (d: Buffer) => {
        heard += d.toString('latin1');
      });
      const reply = async (code: string) => {
        await eventually(
          () => (heard.includes(`\n${code}`) || heard.startsWith(code) ? true : undefined),
          5_000,
          code,
        );
        heard = '';
      };
      await reply('220');
      for (const [line, code] of [
        ['EHLO client.test', '250 '],
        ['MAIL FROM:<a@example.test>', '250 '],
        ['RCPT TO:<b@example.test>', '250 '],
        ['DATA', '354 '],
      ]) {
        socket.write(`${line}\r\n`);
        await reply(code as string);
      }
      // The dump file exists (empty) while the DATA is open: not a message.
      await eventually(() => (readdirSync(sink.dir).length === 1 ? true : undefined), 5_000, 'the dump file');
      expect(sink.messages()).toEqual([]);
      socket.write('Subject: done\r\n\r\nbody\r\n.\r\n');
      await reply('250 ');
      const [msg] = await eventually(
        () => (sink.messages().length ? sink.messages() : undefined),
        5_000,
        'the message after the dot',
      );
      expect(msg).toContain('Subject: done');
    } finally {
      socket.destroy();
      await sink.stop();
    }
  });
});
