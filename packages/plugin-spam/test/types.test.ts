import { describe, expect, it } from 'vitest';
import { bayes } from '../src/index.js';

// The type-level checks are in types.test-d.ts.
describe('bayes training', () => {
  it('train() learns raw messages through the engine without an extractor', async () => {
    const b = bayes({ minLearns: 1 });
    const r = await b.train<string | Buffer>([
      { message: 'Subject: cheap pills\r\n\r\ncheap pills casino\r\n', label: 'spam' as const },
      { message: Buffer.from('Subject: agenda\r\n\r\nmeeting agenda notes\r\n'), label: 'ham' as const },
    ]);
    expect(r).toMatchObject({ done: 2, learned: 2, failed: 0 });
  });
});
