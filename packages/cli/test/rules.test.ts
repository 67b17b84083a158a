import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GTUBE, jsonLines, mef, message, tempDir } from './helpers.js';

// The rules of the installed SpamAssassin (Debian spamassassin/spamd), read at run time.
const SA = '/usr/share/spamassassin';

describe('mef rules', () => {
  it('lists the SpamAssassin rules that load and the skipped ones with the reason (--json)', async () => {
    const r = await mef(['rules', '--sa-rules', SA, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      dirs: string[];
      loaded: { name: string; type: string; score: number; file: string }[];
      skipped: { name: string; reason: string }[];
    };
    expect(out.dirs).toEqual([SA]);
    expect(out.loaded.length).toBeGreaterThan(800);
    expect(out.loaded.find((x) => x.name === 'GTUBE')).toMatchObject({ type: 'body', score: 1000 });
    expect(out.skipped.length).toBeGreaterThan(0);
    for (const s of out.skipped) expect(s.reason).toMatch(/\S/);
  }, 120_000);

  it('prints a table and a summary line', async () => {
    const r = await mef(['rules', '--sa-rules', SA]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GTUBE\s+body\s+1000\.000/m);
    expect(r.stdout).toMatch(/\d+ rules loaded \(and \d+ sub-rules\), \d+ skipped/);
  }, 120_000);

  it('exits 2 with the reason for a folder that does not exist', async () => {
    const r = await mef(['rules', '--sa-rules', '/nonexistent/sa-rules']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dirs/);
  });
});

describe('mef scan --sa-rules', () => {
  it('runs the SpamAssassin rules natively: GTUBE gets SA_GTUBE and is rejected', async () => {
    const dir = tempDir();
    const file = join(dir, 'gtube.eml');
    writeFileSync(file, message('hello', GTUBE));
    const r = await mef(['scan', '--json', '--no-bayes', '--sa-rules', SA, file]);
    expect(r.code).toBe(0);
    const [o] = jsonLines(r.stdout);
    expect(o?.disposition).toBe('reject');
    expect(((o?.symbols ?? []) as { name: string }[]).map((s) => s.name)).toContain('SA_GTUBE');
  }, 120_000);

  it('reads rules.spamassassin from the config file', async () => {
    const dir = tempDir();
    const file = join(dir, 'gtube.eml');
    writeFileSync(file, message('hello', GTUBE));
    const config = join(dir, 'mef.json');
    writeFileSync(config, JSON.stringify({ rules: { spamassassin: [SA] } }));
    const r = await mef(['scan', '--json', '--no-bayes', '--config', config, file]);
    expect(r.code).toBe(0);
    const [o] = jsonLines(r.stdout);
    expect(((o?.symbols ?? []) as { name: string }[]).map((s) => s.name)).toContain('SA_GTUBE');
  }, 120_000);

  it('exits 2 when the folder does not exist', async () => {
    const dir = tempDir();
    const file = join(dir, 'm.eml');
    writeFileSync(file, message('hello', 'body'));
    const r = await mef(['scan', '--sa-rules', '/nonexistent/sa-rules', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rules\.spamassassin/);
  });
});
