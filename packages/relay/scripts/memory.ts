/**
 * Memory under load: 200 concurrent sessions each sending 1 MB through the relay (Postfix's
 * smtp-source as the client, smtp-sink as the destination). Prints the relay's peak RSS and the
 * counts; exits 1 when a message is missing or the peak passes 400 MB. Messages past 1 MiB
 * spill to temporary files, which is what keeps the relay's memory bounded.
 *
 *   pnpm --filter @mef/relay run memory
 */
import { readdirSync, readFileSync } from 'node:fs';
import { smtpSource, startSink } from '@mef/test-servers';
import { createRelay } from '../src/index.js';

const SESSIONS = Number(process.argv[2] ?? 200);
const BYTES = 1024 * 1024;
const sink = await startSink();
let accepted = 0;
const relay = createRelay(
  {
    bayes: { enabled: false },
    relay: {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: 'relay.test',
      domains: { 'a.test': { destination: `127.0.0.1:${sink.port}` } },
      limits: { perIpConnections: SESSIONS * 2 },
    },
  },
  { onTransaction: (r) => void (r.disposition === 'accept' && accepted++) },
);
const { smtp } = await relay.listen();
let peak = process.memoryUsage().rss;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const started = Date.now();
const sent = await smtpSource(
  [
    '-s',
    String(SESSIONS),
    '-m',
    String(SESSIONS),
    '-l',
    String(BYTES),
    '-f',
    'sender@example.test',
    '-t',
    'x@a.test',
  ],
  smtp,
);
if (sent.status !== 0) throw new Error(`smtp-source exited ${sent.status}: ${sent.output}`);
clearInterval(timer);
await relay.close();
const sizes = readdirSync(sink.dir).map((f) => readFileSync(`${sink.dir}/${f}`).length);
// smtp-source -l counts CRLF lines; the dump stores LF, about 1.2% smaller.
const delivered = sizes.filter((n) => n >= BYTES * 0.95).length;
if (delivered !== SESSIONS) console.log(`dump sizes: ${sizes.slice(0, 5).join(', ')}`);
await sink.stop();
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
console.log(
  JSON.stringify({
    sessions: SESSIONS,
    messageBytes: BYTES,
    accepted,
    delivered,
    peakRss: mb(peak),
    seconds: (Date.now() - started) / 1000,
  }),
);
process.exit(accepted === SESSIONS && delivered === SESSIONS && peak < 400 * 2 ** 20 ? 0 : 1);
