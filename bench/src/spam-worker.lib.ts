/**
 * A MEF scanning process for spam-throughput.ts: loads the trained model, reads the message
 * files it is given, warms up, then on each `go` line scans them all (8 at a time) and
 * prints the elapsed milliseconds. One process per core, like rspamd's workers.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createEngine } from '@mef/core/hosts';
import { bayes, MemoryStore, spamRules } from '@mef/plugin-spam';

const [model, ...files] = process.argv.slice(2);
const store = await MemoryStore.load(model as string);
const engine = createEngine().use(spamRules()).use(bayes({ store }));
await engine.start();
const messages = await Promise.all(files.map((f) => readFile(f)));
const env = { clientAddress: '192.0.2.10', mailFrom: 'a@example.com', recipients: ['b@example.net'] };
async function pass(): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < messages.length) await engine.scan(messages[next++] as Buffer, env);
    }),
  );
  return performance.now() - t0;
}
await pass();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') process.stdout.write(`${await pass()}\n`);
  else break;
}
await engine.stop();
