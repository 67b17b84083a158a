import { describe, expect, it } from 'vitest';
import {
  answers,
  dnsAnswers,
  greets,
  MissingServerError,
  requireBinary,
  startAll,
  startRbldnsd,
  startRedis,
  startSink,
} from '../src/index.js';

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
