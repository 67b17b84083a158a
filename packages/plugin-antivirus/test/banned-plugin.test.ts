import { readFileSync } from 'node:fs';
import type { Verdict } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { expectVerdict, runPlugin } from '@mef/core/testing';
import { makeZip } from '@mef/test-servers/zip';
import { describe, expect, it } from 'vitest';
import { type BannedAttachmentsOptions, bannedAttachments, inspectZip } from '../src/index.js';
import { type Attachment, mail } from './support/mail.js';

/** A real Windows program (the ClamAV test program) when installed, else a minimal MZ/PE header. */
function windowsProgram(): Buffer {
  try {
    return readFileSync('/usr/share/clamav-testfiles/clam.exe');
  } catch {
    const b = Buffer.alloc(512);
    b.write('MZ', 0, 'latin1');
    b.writeUInt32LE(0x80, 0x3c);
    b.write('PE\0\0', 0x80, 'latin1');
    return b;
  }
}

async function scan(attachments: Attachment[], options: BannedAttachmentsOptions = {}): Promise<Verdict> {
  const engine = createEngine().use(bannedAttachments(options));
  await engine.start();
  try {
    return await engine.scan(mail({ attachments }), {
      mailFrom: 'a@example.test',
      recipients: ['b@example.test'],
    });
  } finally {
    await engine.stop();
  }
}

const names = (v: Verdict) => v.symbols.map((s) => s.name).sort();
const opts = (v: Verdict, name: string) => v.symbols.find((s) => s.name === name)?.options ?? [];

describe('bannedAttachments', () => {
  it('rejects a .exe attachment with 554 5.7.1 and BANNED_EXTENSION', async () => {
    const v = await scan([{ filename: 'setup.exe', content: windowsProgram() }]);
    expect(v.disposition).toBe('reject');
    expect(v.reply).toMatchObject({ code: 554, enhanced: '5.7.1' });
    expect(names(v)).toEqual(['BANNED_EXTENSION', 'BANNED_REAL_TYPE']);
  });

  it('flags invoice.pdf.exe as a double extension', async () => {
    const v = await scan([{ filename: 'invoice.pdf.exe', content: 'not really a program' }]);
    expect(names(v)).toEqual(['BANNED_DOUBLE_EXTENSION', 'BANNED_EXTENSION']);
    expect(opts(v, 'BANNED_DOUBLE_EXTENSION')).toEqual(['invoice.pdf.exe: .pdf.exe']);
  });

  it('flags a .txt that is really a Windows executable by its magic bytes', async () => {
    const v = await scan([{ filename: 'notes.txt', contentType: 'text/plain', content: windowsProgram() }]);
    expect(v.disposition).toBe('reject');
    expect(names(v)).toEqual(['BANNED_REAL_TYPE']);
    expect(opts(v, 'BANNED_REAL_TYPE')).toEqual(['notes.txt: exe']);
  });

  it('flags a banned declared MIME type', async () => {
    const v = await scan([{ filename: 'data.bin', contentType: 'application/x-msdownload', content: 'abc' }]);
    expect(names(v)).toEqual(['BANNED_MIME_TYPE']);
  });

  it('passes ordinary documents, and mail without attachments', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(100, 0x20)]);
    const v = await scan([{ filename: 'report.pdf', contentType: 'application/pdf', content: pdf }]);
    expect(v.disposition).toBe('accept');
    expect(v.symbols).toEqual([]);
    const none = await scan([]);
    expect(none.symbols).toEqual([]);
  });

  it('lets allow rules override the bans', async () => {
    const v = await scan([{ filename: 'approved-setup.exe', content: windowsProgram() }], {
      allow: { fileNames: [/^approved-/] },
    });
    expect(v.symbols).toEqual([]);
    const w = await scan([{ filename: 'tool.exe', content: 'x' }], { allow: { extensions: ['exe'] } });
    expect(w.symbols).toEqual([]);
  });

  it('quarantines or tags instead of rejecting when asked', async () => {
    const q = await scan([{ filename: 'a.scr', content: 'x' }], { action: 'quarantine' });
    expect(q.disposition).toBe('quarantine');
    const t = await scan([{ filename: 'a.scr', content: 'x' }], { action: 'tag' });
    expect(t.disposition).toBe('accept');
    expect(names(t)).toEqual(['BANNED_EXTENSION']);
  });

  describe('zip archives', () => {
    it('applies the name rules to members', async () => {
      const zip = makeZip([
        { name: 'docs/readme.txt', data: Buffer.from('hi') },
        { name: 'docs/invoice.pdf.exe', data: Buffer.from('x') },
      ]);
      const v = await scan([{ filename: 'docs.zip', contentType: 'application/zip', content: zip }]);
      expect(v.disposition).toBe('reject');
      expect(opts(v, 'BANNED_DOUBLE_EXTENSION')).toEqual(['docs.zip!/docs/invoice.pdf.exe: .pdf.exe']);
    });

    it('applies the real-type rules to members (a .txt member that is a program)', async () => {
      const zip = makeZip([{ name: 'readme.txt', data: windowsProgram() }]);
      const v = await scan([{ filename: 'a.zip', content: zip }]);
      expect(opts(v, 'BANNED_REAL_TYPE')).toEqual(['a.zip!/readme.txt: exe']);
    });

    it('lists nested zips down to the depth limit and reports deeper nesting as ARCHIVE_BOMB', async () => {
      const l3 = makeZip([{ name: 'deep/run.vbs', data: Buffer.from('x') }]);
      const l2 = makeZip([{ name: 'l3.zip', data: l3 }]);
      const l1 = makeZip([{ name: 'l2.zip', data: l2 }]);
      const found = await scan([{ filename: 'l1.zip', content: l1 }]);
      expect(opts(found, 'BANNED_EXTENSION')).toEqual(['l1.zip!/l2.zip!/l3.zip!/deep/run.vbs: .vbs']);
      const l0 = makeZip([{ name: 'l1.zip', data: l1 }]);
      const deep = await scan([{ filename: 'l0.zip', content: l0 }]);
      expect(names(deep)).toEqual(['ARCHIVE_BOMB']);
      expect(opts(deep, 'ARCHIVE_BOMB')[0]).toMatch(/nested deeper than 3/);
      expect(deep.disposition).toBe('reject');
    });

    it('reports encrypted members as ARCHIVE_ENCRYPTED (tag by default) and still checks their names', async () => {
      const zip = makeZip([{ name: 'secret.doc', data: Buffer.from('classified'), password: 'pw' }]);
      const v = await scan([{ filename: 's.zip', content: zip }]);
      expect(v.disposition).toBe('accept');
      expect(names(v)).toEqual(['ARCHIVE_ENCRYPTED']);
      const r = await scan([{ filename: 's.zip', content: zip }], { encryptedAction: 'reject' });
      expect(r.disposition).toBe('reject');
      const named = makeZip([{ name: 'payload.exe', data: Buffer.from('x'), password: 'pw' }]);
      const n = await scan([{ filename: 'p.zip', content: named }]);
      expect(names(n)).toEqual(['ARCHIVE_ENCRYPTED', 'BANNED_EXTENSION']);
    });

    it('reports a high compression ratio as ARCHIVE_BOMB without inflating it', async () => {
      const zip = makeZip([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]);
      expect(zip.length).toBeLessThan(100_000);
      const v = await scan([{ filename: 'z.zip', content: zip }]);
      expect(names(v)).toEqual(['ARCHIVE_BOMB']);
      expect(opts(v, 'ARCHIVE_BOMB')[0]).toMatch(/compression ratio/);
    });

    it('reports a crafted header that declares a huge size as ARCHIVE_BOMB', async () => {
      const zip = makeZip([{ name: 'x.bin', data: Buffer.from('tiny'), declaredSize: 0xfffffff0 }]);
      const v = await scan([{ filename: 'c.zip', content: zip }]);
      expect(names(v)).toContain('ARCHIVE_BOMB');
    });

    it('reports too many members as ARCHIVE_BOMB', async () => {
      const zip = makeZip(
        Array.from({ length: 60 }, (_, i) => ({
          name: `f${i}.txt`,
          data: Buffer.from('x'),
          method: 'store' as const,
        })),
      );
      const v = await scan([{ filename: 'many.zip', content: zip }], { archives: { maxMembers: 50 } });
      expect(opts(v, 'ARCHIVE_BOMB')).toEqual(['more than 50 members']);
    });

    it('lists the names of an archive over archives.maxBytes from its last bytes, without buffering it', async () => {
      const noise = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
      const zip = makeZip([
        { name: 'noise.bin', data: noise, method: 'store' },
        { name: 'tools/evil.exe', data: Buffer.from('x') },
      ]);
      const v = await scan([{ filename: 'big.zip', content: zip }], { archives: { maxBytes: 100_000 } });
      expect(names(v)).toEqual(['ARCHIVE_UNCHECKED', 'BANNED_EXTENSION']);
      expect(opts(v, 'BANNED_EXTENSION')).toEqual(['big.zip!/tools/evil.exe: .exe']);
      expect(opts(v, 'ARCHIVE_UNCHECKED')[0]).toMatch(/names only/);
      const clean = makeZip([{ name: 'noise.bin', data: noise, method: 'store' }]);
      const c = await scan([{ filename: 'big.zip', content: clean }], { archives: { maxBytes: 100_000 } });
      expect(c.disposition).toBe('accept');
    });

    it('reports a window whose tail misses the central directory as unreadable', async () => {
      const zip = makeZip([
        { name: 'a.exe', data: Buffer.alloc(100_000, 1), method: 'store' },
        { name: 'b.txt', data: Buffer.alloc(100_000, 2), method: 'store' },
      ]);
      // yauzl looks for the end record in the last 65,557 bytes.
      const listed = await inspectZip(
        { head: zip.subarray(0, 4100), tail: zip.subarray(-70_000), size: zip.length },
        'w.zip',
      );
      expect(listed.partial).toBe(true);
      expect(listed.members.map((m) => m.name)).toEqual(['a.exe', 'b.txt']);
      expect(listed.unreadable).toEqual([]);
      const missed = await inspectZip(
        { head: zip.subarray(0, 4100), tail: zip.subarray(-30), size: zip.length },
        'w.zip',
      );
      expect(missed.unreadable.length).toBeGreaterThan(0);
    });

    it('marks a broken zip as ARCHIVE_UNCHECKED', async () => {
      const zip = makeZip([{ name: 'a.txt', data: Buffer.from('hello') }]).subarray(0, 40);
      const v = await scan([{ filename: 'broken.zip', content: zip }]);
      expect(names(v)).toEqual(['ARCHIVE_UNCHECKED']);
    });
  });

  it('rejects bad options with a TypeError that names the option', () => {
    expect(() => bannedAttachments({ action: 'drop' as never })).toThrow(/action.*"drop"/);
    expect(() => bannedAttachments({ archives: { maxDepth: 0 } })).toThrow(/archives\.maxDepth/);
    expect(() => bannedAttachments({ allow: { fileNames: ['x'] as never } })).toThrow(/allow\.fileNames/);
    expect(() => bannedAttachments({ scores: { NOPE: 1 } as never })).toThrow(/scores\.NOPE/);
  });
});

describe('bannedAttachments() over the message size limit', () => {
  it('gives its verdict at once when the engine stops reading at the limit (no stage timeout)', async () => {
    const big = `From: a@b\r\nSubject: big\r\n\r\n${`${'z'.repeat(99)}\n`.repeat(3000)}`;
    const started = Date.now();
    const v = await runPlugin(bannedAttachments(), big, {
      engine: { limits: { maxMessageBytes: 100_000 }, stageTimeout: 5_000 },
    });
    expectVerdict(v).toReject().toHaveSymbol('MEF_LIMIT_SIZE').toHaveNoErrors();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
