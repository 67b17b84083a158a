import { describe, expect, it } from 'vitest';
import { relay, send, sink, useCleanup } from './support/harness.js';

useCleanup();

describe('the onward connection', () => {
  it('does not pile up listeners on its socket while a large message waits for the socket to drain', async () => {
    // A message of about 6 MB makes the onward socket's buffer fill and drain many times over
    // (each chunk waits for 'drain'). A listener left behind per wait shows as Node's
    // MaxListenersExceededWarning after 10 of them, on this one socket.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const s = await sink();
      const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } });
      const big = 'y'.repeat(76).concat('\n').repeat(80_000);
      for (let i = 0; i < 2; i++) {
        const info = await send(port, { to: 'x@a.test', subject: `big ${i}`, text: big });
        expect(info.response).toMatch(/^250/);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(s.messages()).toHaveLength(2);
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
