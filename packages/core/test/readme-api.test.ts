import { describe, expect, it } from 'vitest';
import { missingReadmeExports, readmeApiNames } from '../src/testing/index.js';

const readme = [
  '# pkg',
  '## API',
  '| export | what |',
  '| --- | --- |',
  '| `scan` | scans |',
  '| `Verdict` | a type |',
  '## Options',
  '| `timeout` | not an export |',
].join('\n');

describe('readmeApiNames / missingReadmeExports', () => {
  it('reads the names of the API section only', () => {
    expect(readmeApiNames(readme)).toEqual(['scan', 'Verdict']);
  });

  it('finds nothing missing when the entry exports every name', () => {
    expect(missingReadmeExports(readme, { scan: () => 0, Verdict: {} })).toEqual([]);
  });

  it('names each documented export the entry lacks (a broken package is caught)', () => {
    expect(missingReadmeExports(readme, { scan: () => 0 })).toEqual(['Verdict']);
    expect(missingReadmeExports(readme, {})).toEqual(['scan', 'Verdict']);
  });

  it('takes other headings and patterns, and fails on a README without the section', () => {
    const text = '## Exports\n- `a`\n- `b`\n## End\n- `c`';
    expect(readmeApiNames(text, { from: '## Exports', to: '## End', pattern: /^- `(\w+)`/gm })).toEqual([
      'a',
      'b',
    ]);
    expect(() => readmeApiNames('# nothing here')).toThrow(/no "## API" heading/);
  });
});
