import { runPlugin, shapes, streamSuite } from '@mef/core/testing';
import { type NamedServer as Named, startNamed } from '@mef/test-servers';
import { GOOD_IP, message, signed, zones } from '@mef/test-servers/auth-world';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth } from '../src/index.js';

// The shared stream suite and the message shapes for the auth stage, which reads the raw
// view: a DKIM signature by pass.test verifies in every streaming mode and every shape.
let named: Named;
// Signing needs only the key, not DNS.
const signedMessage = Buffer.from(await signed('pass.test', message('alice@pass.test')));
beforeAll(async () => {
  // The suite's own messages come from example.test: a zone with no records, so its lookups find nothing.
  named = await startNamed([...zones(), { origin: 'example.test', records: ['www IN A 192.0.2.80'] }]);
});
afterAll(async () => {
  await named?.stop();
});

const make = () => auth({ servers: [named.server], queryTimeout: 2000, hostname: 'mx.mef.test' });

describe('auth: shared stream suite', () => {
  streamSuite({ describe, it }, 'auth', make, {
    message: signedMessage,
    expect: { symbols: ['R_DKIM_ALLOW'] },
  });
});

describe('auth: message shapes', () => {
  for (const [shape, raw] of Object.entries(
    shapes({
      filename: 'report.pdf',
      content: Buffer.from('%PDF-1.4 quarterly'),
      headers: ['Subject: shapes'],
    }),
  )) {
    it(`verifies the DKIM signature of the ${shape} shape`, async () => {
      const msg = await signed('pass.test', raw.toString('latin1'));
      const v = await runPlugin(make(), msg, { clientAddress: GOOD_IP, mailFrom: 'sender@example.test' });
      expect(v.symbols.map((s) => s.name)).toContain('R_DKIM_ALLOW');
      expect(v.errors).toEqual([]);
    });
  }
});
