import { describe, expect, it } from 'vitest';
import { rbl, spamhausZen } from '../src/index.js';

// The type-level checks are in types.test-d.ts; here the same wrong uses at run time.
describe('options refused at run time', () => {
  it('rbl() without servers or lists throws a TypeError', () => {
    expect(() => rbl({ lists: [spamhausZen()] } as never)).toThrow(TypeError);
    expect(() => rbl({ servers: ['127.0.0.1'] } as never)).toThrow(TypeError);
  });
});
