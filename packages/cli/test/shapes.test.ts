import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shapes } from '@mef/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { eicar, GTUBE, jsonLines, mef, namesOf, tempDir } from './helpers.js';

// The message shapes that once lost findings made in part handlers, through the built `mef`
// binary: each keeps its finding.
const clamdPort = inject('clamdPort');

function write(prefix: string, messages: Record<string, Buffer>): string[] {
  const dir = tempDir();
  return Object.entries(messages).map(([shape, m]) => {
    const file = join(dir, `${prefix}-${shape}.eml`);
    writeFileSync(file, m);
    return file;
  });
}

describe('mef scan keeps the finding in every message shape', () => {
  it('a banned attachment', async () => {
    const files = write('banned', shapes({ filename: 'invoice.exe', content: Buffer.from('MZ harmless') }));
    const r = await mef(['scan', '--json', '--no-bayes', ...files]);
    const out = jsonLines(r.stdout);
    expect(out.map((o) => o.source)).toEqual(files);
    for (const o of out) {
      expect(namesOf(o), String(o.source)).toContain('BANNED_EXTENSION');
      expect(o.disposition, String(o.source)).toBe('reject');
    }
  });

  it('a virus found by clamd in the parts', async () => {
    const files = write('virus', shapes({ filename: 'report.com', content: Buffer.from(eicar()) }));
    const r = await mef(['scan', '--json', '--no-bayes', '--clamd', `127.0.0.1:${clamdPort}`, ...files]);
    const out = jsonLines(r.stdout);
    expect(out.map((o) => o.source)).toEqual(files);
    for (const o of out) {
      expect(namesOf(o), String(o.source)).toContain('CLAMAV_VIRUS');
      expect(o.disposition).toBe('reject');
    }
  });

  it('the GTUBE in a text body', async () => {
    const files = write('gtube', shapes({ content: `Test\n${GTUBE}\n` }));
    const r = await mef(['scan', '--json', '--no-bayes', ...files]);
    const out = jsonLines(r.stdout);
    expect(out).toHaveLength(4);
    for (const o of out) expect(namesOf(o), String(o.source)).toContain('GTUBE');
  });
});
