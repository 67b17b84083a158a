import { GTUBE } from '@mef/plugin-spam';
import { describe, expect, it } from 'vitest';
import { startMilter } from '../examples/milter.js';
import { splitStrings } from '../src/index.js';
import { connectFrame, frame, MtaClient, optneg } from './support/mta.js';

describe('README example (examples/milter.ts)', () => {
  it('starts a milter that refuses GTUBE', async () => {
    const m = await startMilter(0);
    try {
      const mta = await MtaClient.open(m.port);
      mta.write(
        Buffer.concat([
          optneg(6, 0x1ff, 0x1fffff),
          connectFrame('client.test', '192.0.2.1', 1234),
          frame('M', '<a@example.test>'),
          frame('R', '<b@example.test>'),
          frame('L', 'Subject', ' hi'),
          frame('N'),
          frame('B', `${GTUBE}\r\n`),
          frame('E'),
        ]),
      );
      // The example's stages act only at the message: Postfix waits for no other answer.
      const replies = await mta.take(2);
      expect(replies.map((r) => r.command).join('')).toBe('Oy');
      expect(splitStrings(replies[1]?.data ?? Buffer.alloc(0))[0]).toMatch(/^554 /);
      mta.close();
    } finally {
      await m.stop();
    }
  });
});
