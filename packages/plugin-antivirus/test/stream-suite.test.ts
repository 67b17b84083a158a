import { streamSuite } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { bannedAttachments, clamav } from '../src/index.js';

const port = inject('clamdPort');

streamSuite({ describe, it }, 'clamav (mode both)', () => clamav({ hosts: [`127.0.0.1:${port}`] }));
streamSuite(
  { describe, it },
  'clamav (mode parts, maxSize 200 MB: the whole 100 MB part streams to clamd)',
  () => clamav({ hosts: [`127.0.0.1:${port}`], mode: 'parts', maxSize: 200 * 1024 * 1024 }),
);

streamSuite({ describe, it }, 'banned-attachments', () => bannedAttachments());

describe('stream suite setup', () => {
  it('runs against the shared clamd started by the global setup', () => {
    expect(port).toBeGreaterThan(0);
  });
});
