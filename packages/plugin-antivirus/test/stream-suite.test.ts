import { streamSuite } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { bannedAttachments, clamav } from '../src/index.js';

const port = inject('clamdPort');

if (port > 0) {
  streamSuite({ describe, it }, 'clamav (mode both)', () => clamav({ hosts: [`127.0.0.1:${port}`] }));
  streamSuite(
    { describe, it },
    'clamav (mode parts, maxSize 200 MB: the whole 100 MB part streams to clamd)',
    () => clamav({ hosts: [`127.0.0.1:${port}`], mode: 'parts', maxSize: 200 * 1024 * 1024 }),
  );
} else {
  describe('clamav: stream suite', () => {
    it.skip(`needs clamd: ${inject('clamdMissing')}`, () => {});
  });
}

streamSuite({ describe, it }, 'banned-attachments', () => bannedAttachments());

describe('stream suite setup', () => {
  it('runs against the shared clamd when it is installed', () => {
    if (process.env.CI) expect(port).toBeGreaterThan(0);
    expect(typeof port).toBe('number');
  });
});
