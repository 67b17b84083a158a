import { createSocket, type Socket } from 'node:dgram';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { BAD_IP, message } from '@mef/test-servers/auth-world';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth } from '../src/index.js';

/** A UDP socket on loopback that reads queries and never answers (a hung DNS server). */
let silent: Socket;
let silentPort = 0;
/** A loopback UDP port with nothing bound to it (a DNS server that is down). */
let downPort = 0;

beforeAll(async () => {
  silent = createSocket('udp4');
  silent.on('message', () => {});
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  silentPort = silent.address().port;
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  downPort = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

const envelope = { clientAddress: BAD_IP, mailFrom: 'alice@pass.test', helo: 'client.example.test' };

describe('auth when DNS fails', () => {
  it('records DNSFAIL symbols and a timeout error when the DNS server never answers (accept by default)', async () => {
    const started = Date.now();
    const v = await runPlugin(
      auth({ servers: [`127.0.0.1:${silentPort}`], queryTimeout: 300, hostname: 'mx.mef.test' }),
      message('alice@pass.test'),
      envelope,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expectVerdict(v).toAccept().toHaveSymbol('R_SPF_DNSFAIL');
    expect(v.errors.map((e) => [e.kind, e.code])).toEqual([['timeout', 'MEF_AUTH_DNS_TIMEOUT']]);
  });

  it('tempfails by onError when the DNS server is down', async () => {
    const v = await runPlugin(
      auth({ servers: [`127.0.0.1:${downPort}`], queryTimeout: 500, onError: 'tempfail' }),
      message('alice@pass.test'),
      envelope,
    );
    expect(v.disposition).toBe('tempfail');
    expect(v.errors[0]?.code).toMatch(/^MEF_AUTH_DNS_(UNAVAILABLE|TIMEOUT)$/);
    expectVerdict(v).toHaveSymbol('R_SPF_DNSFAIL');
  });

  it('is cut off by its stage timeout', async () => {
    const v = await runPlugin(
      auth({
        servers: [`127.0.0.1:${silentPort}`],
        queryTimeout: 5000,
        stageTimeout: 300,
        onError: 'tempfail',
      }),
      message('alice@pass.test'),
      envelope,
    );
    expect(v.disposition).toBe('tempfail');
    expect(v.errors[0]?.kind).toBe('timeout');
  });
});

describe('options', () => {
  it('refuses to run without DNS servers (never the system resolver)', () => {
    expect(() => auth({})).toThrow(/servers.*system resolver/);
    expect(() => auth({ servers: [] })).toThrow(TypeError);
    expect(() => auth({ servers: ['dns.example.com'] })).toThrow(/servers\[0\]/);
  });

  it('names the bad option and quotes its value', () => {
    const ok = { servers: ['127.0.0.1:53'] };
    expect(() => auth({ ...ok, dmarcReject: 'drop' as never })).toThrow(/dmarcReject.*"drop"/);
    expect(() => auth({ ...ok, dmarcQuarantine: 'reject' as never })).toThrow(/dmarcQuarantine/);
    expect(() => auth({ ...ok, scores: { R_SPF_MAYBE: 1 } as never })).toThrow(/scores\.R_SPF_MAYBE/);
    expect(() => auth({ ...ok, maxSize: -1 })).toThrow(/maxSize/);
    expect(() => auth({ ...ok, queryTimeout: 0 })).toThrow(/queryTimeout/);
    expect(() => auth({ ...ok, spf: 'yes' as never })).toThrow(/spf/);
    expect(() => auth({ ...ok, hostname: 'a b' })).toThrow(/hostname/);
  });
});
