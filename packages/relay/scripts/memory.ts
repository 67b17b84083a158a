/**
 * Memory under load: 200 concurrent sessions each sending 1 MB through the relay (Postfix's
 * smtp-source as the client, smtp-sink as the destination). Prints the relay's peak RSS and the
 * counts; exits 1 when a message is missing or the peak passes 400 MB. `test/memory.test.ts`
 * runs a shorter version in the tests.
 *
 *   pnpm --filter @mef/relay run memory [SESSIONS]
 */
import { memoryRun } from '../test/support/memory-run.js';

const sessions = Number(process.argv[2] ?? 200);
const r = await memoryRun({ sessions, bytes: 1024 * 1024 });
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
console.log(JSON.stringify({ ...r, rssBefore: mb(r.rssBefore), rssPeak: mb(r.rssPeak) }));
process.exit(r.accepted === sessions && r.delivered === sessions && r.rssPeak < 400 * 2 ** 20 ? 0 : 1);
