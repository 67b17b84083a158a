import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { MessageContext, StageContext } from '../src/index.js';

const MESSAGE = 'Subject: x\r\n\r\nhi\r\n';

/** One transaction through `engine`: connect, HELO, MAIL, RCPT, the message; its verdict. */
async function run(engine: ReturnType<typeof createEngine>) {
  const conn = engine.connection({ clientAddress: '192.0.2.1' });
  await conn.connect();
  await conn.helo('client.example');
  const tx = conn.transaction();
  await tx.mailFrom('a@example.org');
  await tx.rcptTo('b@example.net');
  const verdict = await tx.data(MESSAGE);
  await tx.dispose();
  await conn.close();
  return verdict;
}

describe("a stage's abort signal (made when the stage reads it)", () => {
  it('a message stage that read its signal sees it aborted once the transaction ended', async () => {
    let signal: AbortSignal | undefined;
    const e = createEngine().use({
      name: 'reads-signal',
      message(ctx) {
        signal = ctx.signal;
        expect(signal.aborted).toBe(false);
      },
    });
    await e.start();
    expect((await run(e)).disposition).toBe('accept');
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as DOMException | undefined)?.name).toBe('AbortError');
    await e.stop();
  });

  it('a stage that reads its signal only after the end gets it already aborted, with the same reason', async () => {
    const kept: MessageContext[] = [];
    const e = createEngine().use({
      name: 'keeps-context',
      message(ctx) {
        kept.push(ctx);
      },
    });
    await e.start();
    await run(e);
    await run(e);
    const [a, b] = kept.map((ctx) => ctx.signal);
    expect(a?.aborted).toBe(true);
    expect(b?.aborted).toBe(true);
    expect(a).not.toBe(b);
    expect((a?.reason as DOMException | undefined)?.message).toBe('The transaction ended');
    // The same signal at every read.
    expect(kept[0]?.signal).toBe(a);
    await e.stop();
  });

  it('an envelope stage out of time has its signal aborted with the timeout error; one in time does not', async () => {
    const signals: Record<string, AbortSignal> = {};
    const e = createEngine()
      .use({
        name: 'slow-helo',
        stageTimeout: 30,
        async helo(ctx: StageContext) {
          signals.helo = ctx.signal;
          await sleep(300);
        },
      })
      .use({
        name: 'quick-rcpt',
        rcptTo(ctx) {
          // The recipient phase spreads the context: the signal comes along.
          signals.rcpt = ctx.signal;
          expect(ctx.recipient.address).toBe('b@example.net');
        },
      });
    await e.start();
    const verdict = await run(e);
    expect(verdict.errors.map((x) => x.code)).toContain('MEF_CORE_TIMEOUT');
    expect(signals.helo?.aborted).toBe(true);
    expect((signals.helo?.reason as (Error & { code?: string }) | undefined)?.code).toBe('MEF_CORE_TIMEOUT');
    expect(signals.rcpt?.aborted).toBe(false);
    await e.stop();
  });
});

describe('connection ids', () => {
  it('are distinct upper-case base 36 and hex over thousands of connections (the random pool refills)', async () => {
    const e = createEngine();
    await e.start();
    const ids = new Set<string>();
    for (let i = 0; i < 3000; i++) ids.add(e.connection({ clientAddress: '192.0.2.1' }).id);
    expect(ids.size).toBe(3000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Z]{15,}$/);
    await e.stop();
  });
});
