import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Dialog, message, startTransaction } from './support/dialog.js';
import { GTUBE, relay, sink, slowStage, useCleanup } from './support/harness.js';

useCleanup();

/** Sends DATA, the message and its final dot; returns the reply to the dot. */
async function data(d: Dialog, text: string): Promise<string> {
  const go = await d.cmd('DATA');
  if (!go.startsWith('354')) return go;
  d.write(`${text}.\r\n`);
  return d.reply();
}

describe('DATA toward the destination while the scan finishes', () => {
  it('sends DATA at the final dot, before the verdict; the 250 still waits for the destination', async () => {
    // smtp-sink -v logs each command it reads; the stage holds the verdict for 1.5 s.
    const s = await sink(['-v']);
    const { port } = await relay(
      { domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } },
      {},
      { plugins: [slowStage(1_500)] },
    );
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await d.cmd('DATA')).toMatch(/^354/);
    const sent = Date.now();
    d.write(`${message('ahead', 'scanned while DATA goes on')}.\r\n`);
    const dataSeen = () => /: DATA\s*$/m.test(s.log());
    while (!dataSeen() && Date.now() - sent < 1_200) await sleep(20);
    const seenAfter = Date.now() - sent;
    const reply = await d.reply();
    const answeredAfter = Date.now() - sent;
    d.close();
    expect(dataSeen()).toBe(true);
    expect(seenAfter).toBeLessThan(1_200);
    expect(answeredAfter).toBeGreaterThanOrEqual(1_400);
    expect(reply).toMatch(/^250/);
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).toContain('scanned while DATA goes on');
  });

  it('on a refusal ends the destination transaction without the final dot, and the next message of the session arrives alone', async () => {
    const s = await sink();
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } });
    const d = await startTransaction(port);
    expect(await d.cmd('RCPT TO:<x@a.test>')).toMatch(/^250/);
    expect(await data(d, message('spam', GTUBE))).toMatch(/^554/);
    expect(await d.cmd('MAIL FROM:<sender@example.test>')).toMatch(/^250/);
    expect(await d.cmd('RCPT TO:<y@a.test>')).toMatch(/^250/);
    expect(await data(d, message('clean', 'the second message'))).toMatch(/^250/);
    d.close();
    expect(s.messages()).toHaveLength(1);
    expect(s.messages()[0]).toContain('the second message');
    expect(s.messages()[0]).not.toContain('GTUBE');
  });
});
