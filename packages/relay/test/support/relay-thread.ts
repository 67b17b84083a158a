/**
 * The worker threads of `threads.test.ts`: what `mef relay`'s threads run (`serveRelayThread`),
 * and `XDIE` in a message ends the thread while the message is on its way (a crash in native
 * code, an out-of-memory).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ToThread } from '@mef/core/hosts';
import { type RelayConfig, serveRelayThread } from '../../src/index.js';

serveRelayThread((workerData as { config: RelayConfig }).config);
parentPort?.on('message', (m: ToThread) => {
  if (m.chunks.some((c) => Buffer.from(c.buffer, c.byteOffset, c.length).includes('XDIE'))) process.exit(3);
});
