/**
 * The long no-loss run: 1,000 messages (or the first argument) through the relay to a
 * destination that is killed, restarted, slow, answers 4xx or 5xx, or drops the connection
 * before and after the final dot at random. Prints the counts; exits 1 if any message the
 * sender was told 250 for is missing at the destination.
 *
 *   pnpm --filter @mef/relay run no-loss [MESSAGES]
 */
import { noLossRun } from '../test/support/chaos.js';

const messages = Number(process.argv[2] ?? 1000);
const started = Date.now();
const counts = await noLossRun({ messages, senders: 10 });
console.log(JSON.stringify({ ...counts, seconds: Math.round((Date.now() - started) / 1000) }, null, 2));
console.log(counts.lost === 0 ? 'no loss' : `LOST ${counts.lost} message(s)`);
process.exit(counts.lost === 0 && counts.delivered === counts.accepted ? 0 : 1);
