import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Verdict } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { makeZip } from '@mef/test-servers/zip';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { clamav } from '../src/index.js';
import { eicar } from './support/eicar.js';
import { mail } from './support/mail.js';

const port = inject('clamdPort');
const socketPath = inject('clamdSocket');
const TESTFILES = '/usr/share/clamav-testfiles';

async function scanWith(
  options: Parameters<typeof clamav>[0],
  eml: string | Buffer,
  envelope = {},
): Promise<Verdict> {
  const engine = createEngine().use(clamav(options));
  await engine.start();
  try {
    return await engine.scan(eml, {
      mailFrom: 'alice@example.test',
      recipients: ['bob@example.test'],
      ...envelope,
    });
  } finally {
    await engine.stop();
  }
}

const symbol = (v: Verdict, name: string) => v.symbols.find((s) => s.name === name);

describe('clamav against a real clamd', () => {
  const tcp = () => ({ hosts: [`127.0.0.1:${port}`] });

  it('rejects EICAR as a plain 7bit attachment with 554 5.7.1 and the virus name', async () => {
    const v = await scanWith(
      tcp(),
      mail({
        attachments: [
          { filename: 'eicar.com', content: eicar(), encoding: '7bit', contentType: 'text/plain' },
        ],
      }),
    );
    expect(v.disposition).toBe('reject');
    expect(v.reply?.code).toBe(554);
    expect(v.reply?.enhanced).toBe('5.7.1');
    expect(v.reply?.lines.join(' ')).toContain('Eicar-Test-Signature');
    expect(symbol(v, 'CLAMAV_VIRUS')?.options).toContain('Eicar-Test-Signature.UNOFFICIAL');
  });

  it('finds EICAR in a base64 attachment and names the part and file name', async () => {
    const v = await scanWith(tcp(), mail({ attachments: [{ filename: 'report.txt', content: eicar() }] }));
    expect(v.disposition).toBe('reject');
    const opts = symbol(v, 'CLAMAV_VIRUS')?.options ?? [];
    expect(opts).toContain('Eicar-Test-Signature.UNOFFICIAL');
    expect(opts.some((o) => /^part 2 \(report\.txt\)$/.test(o))).toBe(true);
  });

  it('finds EICAR inside a zip attachment', async () => {
    const zip = makeZip([
      { name: 'docs/readme.txt', data: Buffer.from('hello') },
      { name: 'docs/eicar.com', data: eicar() },
    ]);
    const v = await scanWith(
      tcp(),
      mail({ attachments: [{ filename: 'docs.zip', content: zip, contentType: 'application/zip' }] }),
    );
    expect(v.disposition).toBe('reject');
    expect(symbol(v, 'CLAMAV_VIRUS')?.options).toContain('part 2 (docs.zip)');
  });

  it('finds EICAR inside a nested message/rfc822 and names the inner part', async () => {
    const inner = mail({ subject: 'inner', attachments: [{ filename: 'e.bin', content: eicar() }] });
    const v = await scanWith(
      tcp(),
      mail({ attachments: [{ contentType: 'message/rfc822', content: inner, inline: true }] }),
    );
    expect(v.disposition).toBe('reject');
    const opts = symbol(v, 'CLAMAV_VIRUS')?.options ?? [];
    expect(opts).toContain('Eicar-Test-Signature.UNOFFICIAL');
    expect(opts, JSON.stringify(opts)).toContain('part 2.2 (e.bin)');
  });

  it('finds EICAR in a message/rfc822 sent as an attachment (clamd unpacks the raw message)', async () => {
    const inner = mail({ subject: 'inner', attachments: [{ filename: 'e.bin', content: eicar() }] });
    const v = await scanWith(
      tcp(),
      mail({ attachments: [{ contentType: 'message/rfc822', content: inner, filename: 'fwd.eml' }] }),
    );
    expect(v.disposition).toBe('reject');
    expect(symbol(v, 'CLAMAV_VIRUS')?.options).toContain('Eicar-Test-Signature.UNOFFICIAL');
  });

  it('passes clean mail with X-Virus-Scanned and X-Virus-Status: Clean', async () => {
    const v = await scanWith(
      tcp(),
      mail({ attachments: [{ filename: 'notes.txt', content: 'just notes' }] }),
    );
    expect(v.disposition).toBe('accept');
    expect(v.symbols.filter((s) => s.group === 'antivirus')).toEqual([]);
    const headers = v.mutations
      .filter((m) => m.op === 'add')
      .map((m) => `${m.name}: ${'value' in m ? m.value : ''}`);
    expect(headers).toContain('X-Virus-Status: Clean');
    expect(headers.some((h) => /^X-Virus-Scanned: MEF ClamAV \(ClamAV \d/.test(h))).toBe(true);
  });

  it('scans over the unix socket', async () => {
    const v = await scanWith(
      { hosts: [socketPath] },
      mail({ attachments: [{ filename: 'x.bin', content: eicar() }] }),
    );
    expect(v.disposition).toBe('reject');
    const clean = await scanWith({ hosts: [`unix:${socketPath}`] }, mail());
    expect(clean.disposition).toBe('accept');
  });

  it.each(['raw', 'parts', 'both'] as const)('mode %s detects EICAR', async (mode) => {
    const v = await scanWith(
      { ...tcp(), mode },
      mail({ attachments: [{ filename: 'e.txt', content: eicar() }] }),
    );
    expect(v.disposition).toBe('reject');
    const where = symbol(v, 'CLAMAV_VIRUS')?.options ?? [];
    if (mode === 'raw') expect(where).toContain('message');
    if (mode === 'parts') expect(where).not.toContain('message');
  });

  it('scans many parts with one part connection at a time (maxConnections: 1) without stalling', async () => {
    const attachments = Array.from({ length: 6 }, (_, i) => ({
      filename: `f${i}.bin`,
      content: i === 4 ? eicar() : Buffer.from(`file ${i} ${Math.random()}`),
    }));
    const v = await scanWith({ ...tcp(), maxConnections: 1 }, mail({ attachments }));
    expect(v.disposition).toBe('reject');
    expect(symbol(v, 'CLAMAV_VIRUS')?.options).toEqual(
      expect.arrayContaining(['Eicar-Test-Signature.UNOFFICIAL', 'part 6 (f4.bin)', 'message']),
    );
  });

  it('quarantines or tags instead of rejecting when asked', async () => {
    const eml = mail({ attachments: [{ filename: 'e.txt', content: eicar() }] });
    const q = await scanWith({ ...tcp(), action: 'quarantine' }, eml);
    expect(q.disposition).toBe('quarantine');
    const t = await scanWith({ ...tcp(), action: 'tag' }, eml);
    expect(t.disposition).toBe('accept');
    expect(t.forced).toEqual([]);
    expect(symbol(t, 'CLAMAV_VIRUS')?.score).toBe(10);
    expect(
      t.mutations.some(
        (m) => m.op === 'add' && m.name === 'X-Virus-Status' && m.value.startsWith('Infected ('),
      ),
    ).toBe(true);
    const t2 = await scanWith({ ...tcp(), action: 'tag', scores: { CLAMAV_VIRUS: 30 } }, eml);
    expect(t2.disposition).toBe('reject'); // the score alone reaches the reject threshold
    expect(t2.forced).toEqual([]);
  });

  it('records an encrypted archive as CLAMAV_HEURISTIC (tag by default), with its own action', async () => {
    const zip = makeZip([{ name: 'secret.doc', data: Buffer.from('classified'), password: 'pw' }]);
    const eml = mail({ attachments: [{ filename: 'secret.zip', content: zip }] });
    const v = await scanWith(tcp(), eml);
    expect(v.disposition, JSON.stringify(v)).toBe('accept');
    expect(symbol(v, 'CLAMAV_VIRUS')).toBeUndefined();
    expect(symbol(v, 'CLAMAV_HEURISTIC')?.options?.[0]).toMatch(/^Heuristics\.Encrypted\./);
    expect(symbol(v, 'CLAMAV_HEURISTIC')?.score).toBe(3);
    const r = await scanWith({ ...tcp(), heuristicAction: 'reject' }, eml);
    expect(r.disposition).toBe('reject');
    expect(r.reply?.lines.join(' ')).toMatch(/Heuristics\.Encrypted/);
    const q = await scanWith(
      { ...tcp(), heuristicActions: { 'Heuristics.Encrypted': 'quarantine', Heuristics: 'reject' } },
      eml,
    );
    expect(q.disposition).toBe('quarantine');
    const t = await scanWith(
      { ...tcp(), heuristicAction: 'reject', heuristicActions: { 'Heuristics.Encrypted.Zip': 'tag' } },
      eml,
    );
    expect(t.disposition).toBe('accept');
  });

  it('skips authenticated or outbound mail only when configured', async () => {
    const eml = mail({ attachments: [{ filename: 'e.txt', content: eicar() }] });
    expect((await scanWith({ ...tcp(), skipAuthenticated: true }, eml, { user: 'carol' })).disposition).toBe(
      'accept',
    );
    expect(
      (await scanWith({ ...tcp(), skipOutbound: true }, eml, { direction: 'outbound' })).disposition,
    ).toBe('accept');
    expect((await scanWith(tcp(), eml, { user: 'carol', direction: 'outbound' })).disposition).toBe('reject');
  });

  it('skips a message over maxSize with CLAMAV_SKIPPED_SIZE, or tempfails when configured', async () => {
    const eml = mail({ attachments: [{ filename: 'big.bin', content: Buffer.alloc(200_000, 7) }] });
    const skip = await scanWith({ ...tcp(), maxSize: 100_000 }, eml);
    expect(skip.disposition).toBe('accept');
    expect(symbol(skip, 'CLAMAV_SKIPPED_SIZE')).toBeDefined();
    const temp = await scanWith({ ...tcp(), maxSize: 100_000, oversize: 'tempfail' }, eml);
    expect(temp.disposition).toBe('tempfail');
    expect(temp.errors[0]?.code).toBe('MEF_AV_SIZE_LIMIT');
  });

  it('fails over to the next host when the first one refuses', async () => {
    const v = await scanWith(
      { hosts: ['127.0.0.1:1', `127.0.0.1:${port}`] },
      mail({ attachments: [{ filename: 'e', content: eicar() }] }),
    );
    expect(v.disposition).toBe('reject');
  });

  it('tempfails with MEF_AV_CLAMD_UNAVAILABLE when no clamd answers', async () => {
    const v = await scanWith({ hosts: ['127.0.0.1:1'] }, mail());
    expect(v.disposition).toBe('tempfail');
    expect(v.errors[0]).toMatchObject({
      stage: 'clamav',
      code: 'MEF_AV_CLAMD_UNAVAILABLE',
      policy: 'tempfail',
    });
    expect(symbol(v, 'CLAMAV_FAIL')).toBeDefined();
    const acc = await scanWith({ hosts: ['127.0.0.1:1'], onError: 'accept' }, mail());
    expect(acc.disposition).toBe('accept');
  });

  describe('every clamav-testfiles file as an attachment', () => {
    let files: string[] = [];
    beforeAll(() => {
      files = readdirSync(TESTFILES).sort();
    });
    it('finds all 44 files in a message each (mode both)', async () => {
      expect(files.length).toBe(44);
      const engine = createEngine().use(clamav(tcp()));
      await engine.start();
      const missed: string[] = [];
      try {
        for (const f of files) {
          const v = await engine.scan(
            mail({ attachments: [{ filename: f, content: readFileSync(join(TESTFILES, f)) }] }),
            { mailFrom: 'a@example.test', recipients: ['b@example.test'] },
          );
          const hit = symbol(v, 'CLAMAV_VIRUS');
          if (v.disposition !== 'reject' || !hit?.options?.includes('ClamAV-Test-File.UNOFFICIAL'))
            missed.push(f);
          else expect(hit.options).toContain(`part 2 (${f})`);
        }
      } finally {
        await engine.stop();
      }
      expect(missed).toEqual([]);
    });
  });
});
