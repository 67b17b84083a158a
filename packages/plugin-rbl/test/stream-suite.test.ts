import { buildMessage, streamSuite } from '@mef/core/testing';
import { describe, inject, it } from 'vitest';
import { rbl, spamhausDbl, spamhausZen } from '../src/index.js';

const port = inject('rbldnsdPort');

describe('rbl: shared stream suite', () => {
  streamSuite(
    { describe, it },
    'rbl (links from text and HTML parts)',
    () =>
      rbl({
        servers: [`127.0.0.1:${port}`],
        lists: [spamhausZen({ zone: 'zen.test' }), spamhausDbl({ zone: 'dbl.test' })],
        probeInterval: 0,
      }),
    {
      message: buildMessage({
        text: 'Buy at http://shop.spammer.com/ now',
        html: '<a href="https://login.phisher.co.uk/">log in</a>',
        attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'see www.spamfamily.net' }],
      }),
    },
  );
});
