import { readdirSync, statSync } from 'node:fs';
import { smtpSource, startSink } from '@mef/test-servers';
import { createRelay } from '../../src/index.js';

export interface MemoryCounts {
  sessions: number;
  messageBytes: number;
  /** The relay answered 250. */
  accepted: number;
  /** Messages of full size at the destination. */
  delivered: number;
  /** The process's resident size before the run, and its peak during it, bytes. */
  rssBefore: number;
  rssPeak: number;
  /** The same for the memory of Buffers (`arrayBuffers`), where a message held whole would be. */
  buffersBefore: number;
  buffersPeak: number;
  seconds: number;
}

/**
 * Memory under load: `sessions` sessions at once, each sending one message of `bytes` through
 * the relay (Postfix's smtp-source as the client, smtp-sink as the destination), while the
 * process's memory is sampled every 20 ms. Messages past 1 MiB spill to temporary files, which is
 * what keeps the relay's memory bounded.
 */
export async function memoryRun(options: { sessions: number; bytes: number }): Promise<MemoryCounts> {
  const { sessions, bytes } = options;
  const sink = await startSink({ backlog: Math.max(64, sessions) });
  let accepted = 0;
  const relay = createRelay(
    {
      bayes: { enabled: false },
      relay: {
        listen: { host: '127.0.0.1', port: 0 },
        hostname: 'relay.test',
        domains: { 'a.test': { destination: `127.0.0.1:${sink.port}` } },
        limits: { perIpConnections: sessions * 2 },
      },
    },
    {
      onTransaction: (r) => {
        if (r.disposition === 'accept') accepted++;
      },
    },
  );
  const started = Date.now();
  try {
    const { smtp } = await relay.listen();
    const before = process.memoryUsage();
    let rssPeak = before.rss;
    let buffersPeak = before.arrayBuffers;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      buffersPeak = Math.max(buffersPeak, m.arrayBuffers);
    }, 20);
    const args = ['-s', String(sessions), '-m', String(sessions), '-l', String(bytes)];
    const sent = await smtpSource([...args, '-f', 'sender@example.test', '-t', 'x@a.test'], smtp).finally(
      () => clearInterval(timer),
    );
    if (sent.status !== 0) throw new Error(`smtp-source exited ${sent.status}: ${sent.output}`);
    await relay.close();
    // smtp-source -l counts CRLF lines; the dump stores LF, about 1.2% smaller.
    const delivered = readdirSync(sink.dir).filter(
      (f) => statSync(`${sink.dir}/${f}`).size >= bytes * 0.95,
    ).length;
    return {
      sessions,
      messageBytes: bytes,
      accepted,
      delivered,
      rssBefore: before.rss,
      rssPeak,
      buffersBefore: before.arrayBuffers,
      buffersPeak,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await relay.close();
    await sink.stop();
  }
}
