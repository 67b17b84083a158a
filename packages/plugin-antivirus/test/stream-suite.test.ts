import { createServer } from 'node:net';
import { buildMessage, shapeSuite, streamChecks, streamSuite } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { bannedAttachments, clamav } from '../src/index.js';
import { eicar } from './support/eicar.js';

const port = inject('clamdPort');
const api = { describe, it };

const infected = buildMessage({
  text: 'see attachment',
  attachments: [{ filename: 'report.com', content: eicar() }],
});
const virus = { message: infected, expect: { disposition: 'reject', symbols: ['CLAMAV_VIRUS'] } } as const;

streamSuite(api, 'clamav (mode both)', () => clamav({ hosts: [`127.0.0.1:${port}`] }), virus);
streamSuite(
  api,
  'clamav (mode parts, maxSize 200 MB: the whole 100 MB part streams to clamd)',
  () => clamav({ hosts: [`127.0.0.1:${port}`], mode: 'parts', maxSize: 200 * 1024 * 1024 }),
  virus,
);

const banned = buildMessage({
  text: 'see attachment',
  attachments: [
    { filename: 'invoice.pdf.exe', content: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(2_000, 1)]) },
  ],
});
streamSuite(api, 'banned-attachments', () => bannedAttachments(), {
  message: banned,
  expect: { disposition: 'reject', symbols: ['BANNED_DOUBLE_EXTENSION'] },
});

// The same payloads in every message shape: a finding made in a part handler is never lost.
for (const mode of ['raw', 'parts', 'both'] as const) {
  shapeSuite(api, `clamav (mode ${mode})`, () => clamav({ hosts: [`127.0.0.1:${port}`], mode }), {
    payload: { filename: 'report.com', content: eicar() },
    expect: { disposition: 'reject', symbols: ['CLAMAV_VIRUS'] },
  });
}
shapeSuite(api, 'banned-attachments', () => bannedAttachments(), {
  payload: { filename: 'invoice.exe', content: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(2_000, 1)]) },
  expect: { disposition: 'reject', symbols: ['BANNED_EXTENSION'] },
});

describe('the antivirus stream suite fails when clamd is down', () => {
  it('fails the 1-byte check with the clamd error instead of passing', async () => {
    // A port that was just free: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = () => clamav({ hosts: [`127.0.0.1:${closed}`], scanTimeout: 2_000 });
    await expect(streamChecks.oneByteChunks(down, virus)).rejects.toThrow(
      /recorded error MEF_AV_CLAMD_UNAVAILABLE/,
    );
  });
});
