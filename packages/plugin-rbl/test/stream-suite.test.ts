import { buildMessage, shapeSuite, streamSuite } from '@mef/core/testing';
import { describe, inject, it } from 'vitest';
import { rbl, spamhausDbl, spamhausZen } from '../src/index.js';

const port = inject('rbldnsdPort');
const api = { describe, it };
const make = () =>
  rbl({
    servers: [`127.0.0.1:${port}`],
    lists: [spamhausZen({ zone: 'zen.test' }), spamhausDbl({ zone: 'dbl.test' })],
    probeInterval: 0,
  });

describe('rbl: shared stream suite', () => {
  streamSuite(api, 'rbl (links from text and HTML parts)', make, {
    message: buildMessage({
      text: 'Buy at http://shop.spammer.com/ now',
      html: '<a href="https://login.phisher.co.uk/">log in</a>',
      attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'see www.spamfamily.net' }],
    }),
    expect: { symbols: ['DBL_SPAM', 'DBL_PHISH'] },
  });
});

// A link in a text body, in every message shape.
shapeSuite(api, 'rbl (links)', make, {
  payload: { content: 'Buy at http://shop.spammer.com/ now' },
  expect: { symbols: ['DBL_SPAM'] },
});
