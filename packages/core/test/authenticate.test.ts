import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { TransactionContext } from '../src/index.js';
import { buildMessage, expectVerdict } from '../src/testing/index.js';
import { codeOf } from './support/code-of.js';

const msg = buildMessage({ text: 'hello' });

/** An engine whose one stage notes the user and direction each phase saw. */
async function watching() {
  const seen: { phase: string; user: string | undefined; direction: string }[] = [];
  const note = (phase: string, tx: TransactionContext): void => {
    seen.push({ phase, user: tx.user, direction: tx.direction });
  };
  const engine = createEngine().use({
    name: 'watch',
    helo: (ctx) => note('helo', ctx.tx),
    mailFrom: (ctx) => note('mail', ctx.tx),
    rcptTo: (ctx) => note('rcpt', ctx.tx),
    message: (ctx) => note('message', ctx.tx),
    close: (ctx) => note('close', ctx.tx),
  });
  await engine.start();
  return { engine, seen };
}

describe('Connection.authenticate', () => {
  it('gives every later phase the user and the outbound direction', async () => {
    const { engine, seen } = await watching();
    const conn = engine.connection({ clientAddress: '192.0.2.1' });
    await conn.helo('client.test');
    conn.authenticate('alice');
    expect(conn.info).toMatchObject({ clientAddress: '192.0.2.1', user: 'alice', direction: 'outbound' });
    const tx = conn.transaction();
    await tx.mailFrom('alice@x.test');
    await tx.rcptTo('bob@y.test');
    expectVerdict(await tx.data(msg)).toAccept();
    await tx.dispose();
    await conn.close();
    await engine.stop();
    expect(seen).toEqual([
      { phase: 'helo', user: undefined, direction: 'inbound' },
      { phase: 'mail', user: 'alice', direction: 'outbound' },
      { phase: 'rcpt', user: 'alice', direction: 'outbound' },
      { phase: 'message', user: 'alice', direction: 'outbound' },
      { phase: 'close', user: 'alice', direction: 'outbound' },
    ]);
  });

  it('copies the host object: changing it afterwards changes nothing', async () => {
    const { engine, seen } = await watching();
    const info: { clientAddress: string; user?: string } = { clientAddress: '192.0.2.1' };
    const conn = engine.connection(info);
    info.user = 'mallory';
    const tx = conn.transaction();
    await tx.mailFrom('a@x.test');
    expect(seen.at(-1)).toEqual({ phase: 'mail', user: undefined, direction: 'inbound' });
    expect(conn.info.user).toBeUndefined();
    await tx.dispose();
    await conn.close();
    await engine.stop();
  });

  it('takes the same user again, and refuses another one or a closed connection', async () => {
    const { engine } = await watching();
    const conn = engine.connection({ clientAddress: '192.0.2.1', direction: 'inbound' });
    conn.authenticate('alice');
    conn.authenticate('alice');
    expect(conn.info.direction).toBe('outbound');
    expect(codeOf(() => conn.authenticate('bob'))).toBe('MEF_CORE_PHASE_ORDER');
    expect(conn.info.user).toBe('alice');
    await conn.close();
    expect(codeOf(() => engine.connection({ clientAddress: '192.0.2.2' }).authenticate(''))).toBe(
      'MEF_CORE_INVALID_OPTION',
    );
    const closed = engine.connection({ clientAddress: '192.0.2.3' });
    await closed.close();
    expect(codeOf(() => closed.authenticate('carol'))).toBe('MEF_CORE_PHASE_ORDER');
    await engine.stop();
  });
});
