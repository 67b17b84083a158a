import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamSuite } from '@mef/core/testing';
import { describe, inject, it } from 'vitest';
import { MemoryStore } from '../src/bayes/memory-store.js';
import { bayes } from '../src/plugins/bayes-plugin.js';
import { rspamd } from '../src/plugins/rspamd-plugin.js';
import { spamRules } from '../src/plugins/rules-plugin.js';
import { spamassassin } from '../src/plugins/spamassassin-plugin.js';

const spam = readFileSync(join(import.meta.dirname, 'fixtures', 'spam.eml'));
const api = { describe, it };

// Rules and Bayes read only the bounded views; the suite checks they never make the engine buffer.
streamSuite(
  api,
  'spamRules + bayes',
  () => [spamRules(), bayes({ store: new MemoryStore(), minLearns: 0 })],
  {
    message: spam,
  },
);

const rspamdPort = inject('rspamdPort');
const spamdPort = inject('spamdPort');
if (rspamdPort) {
  // rspamd streams the message (chunked upload) and stops at maxSize.
  streamSuite(api, 'rspamd', () => rspamd({ port: rspamdPort, maxSize: 2 * 1024 * 1024 }), { message: spam });
} else console.warn('[plugin-spam] rspamd stream suite skipped: rspamd not installed');
if (spamdPort) {
  // spamd holds at most maxSize bytes, then only counts.
  streamSuite(api, 'spamassassin', () => spamassassin({ port: spamdPort }), { message: spam });
} else console.warn('[plugin-spam] spamd stream suite skipped: spamd not installed');
