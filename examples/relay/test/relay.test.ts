import { type SinkServer as Sink, smtpSinkPath, startSink } from '@mef/test-servers';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRelay } from '../src/main.js';

let sink: Sink;
beforeAll(async () => {
  if (!smtpSinkPath) {
    throw new Error(
      'smtp-sink is not installed (apt-get install postfix); run sudo bash scripts/install-servers.sh',
    );
  }
  sink = await startSink();
});
afterAll(async () => {
  await sink?.stop();
});

describe('the example host', () => {
  it('runs the relay with its own plugin after the built-in ones', async () => {
    const relay = exampleRelay({
      bayes: { enabled: false },
      relay: {
        listen: { host: '127.0.0.1', port: 0 },
        hostname: 'mx1.example.net',
        domains: { 'example.net': { destination: `127.0.0.1:${sink.port}` } },
      },
    });
    const { smtp } = await relay.listen();
    try {
      const info = await smtpClient(smtp).sendMail({
        from: 'a@example.test',
        to: 'alice@example.net',
        subject: 'hi',
        text: 'Hello',
      });
      expect(info.response).toMatch(/^250 /);
      expect(sink.messages()[0]).toContain('X-Example-Relay: mx1.example.net');
    } finally {
      await relay.close();
    }
  });
});
