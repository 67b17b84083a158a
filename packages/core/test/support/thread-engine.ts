/**
 * The engine of `thread-pool.test.ts`'s worker threads: one message stage that reads the whole
 * message and records its size and the thread it ran in; `XBAD` in the message makes it a
 * reject, `XDIE` ends the thread in the middle of the message, and `workerData.broken` makes
 * the thread fail as it starts.
 */
import { threadId, workerData } from 'node:worker_threads';
import { createEngine, serveThread } from '../../src/hosts/index.js';
import type { Plugin } from '../../src/index.js';

if ((workerData as { broken?: boolean } | null)?.broken) throw new Error('this engine cannot be built');

const reader: Plugin = {
  name: 'thread-reader',
  async message(ctx) {
    let bytes = 0;
    let bad = false;
    for await (const chunk of ctx.message.raw()) {
      const text = (chunk as Buffer).toString('latin1');
      // A thread that dies while a message is on its way (a crash in native code, an OOM).
      if (text.includes('XDIE')) process.exit(3);
      bad ||= text.includes('XBAD');
      bytes += (chunk as Buffer).length;
    }
    ctx.findings.symbol('THREAD_READ', 0, { options: [String(bytes), String(threadId)] });
    if (bad) ctx.findings.symbol('THREAD_BAD', 20);
  },
};

serveThread(createEngine().use(reader));
