import { setTimeout as sleep } from 'node:timers/promises';
import type { Plugin } from '@mef/core';
import { shapes } from '@mef/core/testing';
import { type RunningServer, startRedis } from '@mef/test-servers';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relay, sink, useCleanup } from './support/harness.js';

useCleanup();

function sendRaw(port: number, raw: Buffer, to = 'alice@customer.test') {
  return smtpClient(port).sendMail({ envelope: { from: 'sender@example.test', to: [to] }, raw });
}

/** Gives every message a fixed score: a stand-in for the spam rules scoring 5. */
const scoreOf = (score: number): Plugin => ({
  name: 'fixed-score',
  message(ctx) {
    ctx.findings.symbol('FIXED_SCORE', score);
  },
});

describe('the relay keeps a part handler’s finding in every message shape', () => {
  it('refuses a banned attachment with 554 in each shape, and the destination gets none of them', async () => {
    const s = await sink();
    const r = await relay({ domains: { 'customer.test': { destination: `127.0.0.1:${s.port}` } } });
    const messages = shapes({ filename: 'invoice.exe', content: Buffer.from('MZ harmless payload') });
    for (const [shape, raw] of Object.entries(messages)) {
      const err = await sendRaw(r.port, raw).then(
        () => undefined,
        (e: { responseCode?: number; response?: string }) => e,
      );
      expect(err?.responseCode, shape).toBe(554);
      expect(err?.response, shape).toMatch(/Banned attachment/);
    }
    expect(s.messages()).toHaveLength(0);
  });
});

describe('greylisting in two relays that share one redis-server', () => {
  let redis: RunningServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('defers a message scoring 5 once; its retry after the delay, at the other relay, is delivered', async () => {
    const s = await sink();
    const greylist = { redis: `redis://127.0.0.1:${redis.port}`, delay: 400 };
    const domains = { 'customer.test': { destination: `127.0.0.1:${s.port}` } };
    const mx1 = await relay({ hostname: 'mx1.test', domains }, { greylist }, { plugins: [scoreOf(5)] });
    const mx2 = await relay({ hostname: 'mx2.test', domains }, { greylist }, { plugins: [scoreOf(5)] });
    const raw = Buffer.from('From: sender@example.test\r\nSubject: offer\r\n\r\nHello\r\n');

    const first = await sendRaw(mx1.port, raw).then(
      () => undefined,
      (e: { responseCode?: number; response?: string }) => e,
    );
    expect(first?.responseCode).toBe(451);
    expect(first?.response).toMatch(/4\.7\.1 Greylisted/);
    // Seen once (a CI run on a loaded machine): a message at the destination after this 451. The
    // message says what reached it, for the next time.
    expect(
      s.messages(),
      `at the destination after a 451: ${s.messages().join('\n---\n').slice(0, 3000)}`,
    ).toHaveLength(0);

    await sleep(500);
    const retry = await sendRaw(mx2.port, raw);
    expect(retry.response).toMatch(/^250 /);
    expect(s.messages()).toHaveLength(1);

    // Mail under the greylist threshold is never deferred.
    const low = await relay({ hostname: 'mx3.test', domains }, { greylist }, { plugins: [scoreOf(1)] });
    const lowSent = await sendRaw(low.port, raw, 'bob@customer.test');
    expect(lowSent.response).toMatch(/^250 /);
  });
});
