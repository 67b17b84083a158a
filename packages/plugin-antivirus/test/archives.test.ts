import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createEngine } from '@mef/core/hosts';
import { makeZip } from '@mef/test-servers/zip';
import { describe, expect, it } from 'vitest';
import { archiveKind, bannedAttachments, inspectArchive, readTnef } from '../src/index.js';
import { eicar } from './support/eicar.js';
import { mail } from './support/mail.js';
import { makeRar } from './support/rar-writer.js';
import { make7z } from './support/seven-zip.js';
import { makeTar } from './support/tar-writer.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const clamExe = readFileSync(join(TESTFILES, 'clam.exe'));

const names = (r: Awaited<ReturnType<typeof inspectArchive>>) =>
  r.members.map((m) => `${m.path}:${m.realType ?? ''}`);

describe('inspectArchive', () => {
  it('tells the kinds apart by magic bytes', () => {
    expect(archiveKind(readFileSync(join(TESTFILES, 'clam.7z')))).toBe('7z');
    expect(archiveKind(readFileSync(join(TESTFILES, 'clam.tar.gz')))).toBe('gzip');
    expect(archiveKind(readFileSync(join(TESTFILES, 'clam.tnef')))).toBe('tnef');
    expect(archiveKind(makeRar([{ name: 'a', data: Buffer.from('x') }]))).toBe('rar');
    expect(archiveKind(makeTar([{ name: 'a', data: Buffer.from('x') }]))).toBe('tar');
    expect(
      archiveKind(Buffer.from('just text, long enough to be past the tar magic offset'.repeat(10))),
    ).toBe(undefined);
  });

  it('lists the ClamAV test 7z, tar.gz and TNEF down to the Windows program inside', async () => {
    const seven = await inspectArchive(readFileSync(join(TESTFILES, 'clam.7z')), 'clam.7z');
    expect(names(seven)).toEqual(['clam.7z!/clam.exe:exe']);
    const tgz = await inspectArchive(readFileSync(join(TESTFILES, 'clam.tar.gz')), 'clam.tar.gz');
    expect(names(tgz)).toEqual(['clam.tar.gz!/clam.tar:tar', 'clam.tar.gz!/clam.tar!/clam.exe:exe']);
    const tnef = await inspectArchive(readFileSync(join(TESTFILES, 'clam.tnef')), 'winmail.dat');
    expect(names(tnef)).toEqual(['winmail.dat!/clam.exe:exe']);
    expect(tnef.unreadable).toEqual([]);
    const t = readTnef(readFileSync(join(TESTFILES, 'clam.tnef')));
    expect(t.broken).toBe(false);
    expect(t.attachments[0]?.data?.equals(clamExe)).toBe(true);
    expect(t.attachments[0]?.longName).toBe('clam.exe');
  });

  it('checks the long file name of a TNEF attachment as well as its short title', async () => {
    const attr = (id: number, data: Buffer) => {
      const h = Buffer.alloc(9);
      h[0] = 2;
      h.writeUInt32LE(id, 1);
      h.writeUInt32LE(data.length, 5);
      return Buffer.concat([h, data, Buffer.alloc(2)]);
    };
    const long = Buffer.from('invoice.exe\0', 'latin1');
    const mapi = Buffer.alloc(16 + Math.ceil(long.length / 4) * 4);
    mapi.writeUInt32LE(1, 0); // one property
    mapi.writeUInt16LE(0x001e, 4); // PT_STRING8
    mapi.writeUInt16LE(0x3707, 6); // PR_ATTACH_LONG_FILENAME
    mapi.writeUInt32LE(1, 8); // one value
    mapi.writeUInt32LE(long.length, 12);
    long.copy(mapi, 16);
    const tnef = Buffer.concat([
      Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0, 0]),
      attr(0x00069002, Buffer.alloc(14)),
      attr(0x00018010, Buffer.from('readme.txt\0')),
      attr(0x0006800f, Buffer.from('hello')),
      attr(0x00069005, mapi),
    ]);
    const r = await inspectArchive(tnef, 'winmail.dat');
    expect(r.members.map((m) => m.name)).toEqual(['invoice.exe', 'readme.txt']);
    expect(r.unreadable).toEqual([]);
  });

  it('lists a rar through unrar-free and reads its members', async () => {
    const rar = makeRar([
      { name: 'setup.exe', data: clamExe },
      { name: 'docs\\eicar.com', data: eicar() },
    ]);
    const r = await inspectArchive(rar, 'a.rar');
    expect(names(r)).toEqual(['a.rar!/setup.exe:exe', 'a.rar!/docs/eicar.com:']);
    expect(r.unreadable).toEqual([]);
  });

  it('reports encrypted 7z and rar members, and a 7z whose names are encrypted', async () => {
    const r = await inspectArchive(makeRar([{ name: 'x.exe', data: clamExe }], true), 'e.rar');
    expect(r.encrypted).toEqual(['e.rar!/x.exe']);
    const s = await inspectArchive(make7z({ 'x.exe': clamExe }, 'secret'), 'e.7z');
    expect(s.encrypted).toEqual(['e.7z!/x.exe']);
    expect(names(s)).toEqual(['e.7z!/x.exe:']);
    const h = await inspectArchive(make7z({ 'x.exe': clamExe }, 'secret', true), 'h.7z');
    expect(h.encrypted).toEqual(['h.7z (encrypted names)']);
  });

  it('opens archives nested across kinds: zip > 7z > tar > rar', async () => {
    const rar = makeRar([{ name: 'deep.exe', data: clamExe }]);
    const tar = makeTar([{ name: 'inner.rar', data: rar }]);
    const seven = make7z({ 'inner.tar': tar });
    const zip = makeZip([{ name: 'inner.7z', data: seven }]);
    const r = await inspectArchive(zip, 'outer.zip', {
      maxDepth: 5,
      maxMembers: 100,
      maxRatio: 200,
      maxUncompressed: 1 << 30,
      maxNestedBytes: 1 << 20,
    });
    expect(names(r)).toContain('outer.zip!/inner.7z!/inner.tar!/inner.rar!/deep.exe:exe');
    const shallow = await inspectArchive(zip, 'outer.zip');
    expect(shallow.bomb).toEqual(['outer.zip!/inner.7z!/inner.tar!/inner.rar: archive nested deeper than 3']);
  });

  it('calls a gzip bomb a bomb without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const r = await inspectArchive(bomb, 'zeros.gz');
    expect(r.bomb[0]).toMatch(/compression ratio/);
  });

  it('answers broken archives with an unreadable entry, not a throw', async () => {
    const broken = Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), Buffer.alloc(40, 0xff)]);
    expect((await inspectArchive(broken, 'b.rar')).members).toEqual([]);
    // An attribute that claims 100 bytes and holds 3.
    const tnef = Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0, 0, 2, 0x0f, 0x80, 6, 0, 100, 0, 0, 0, 1, 2, 3]);
    expect((await inspectArchive(tnef, 'w.dat')).unreadable).toEqual(['w.dat: broken TNEF stream']);
    const seven = Buffer.concat([Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), Buffer.alloc(100, 1)]);
    expect((await inspectArchive(seven, 'b.7z')).unreadable).toEqual([
      'b.7z: 7z archive could not be listed',
    ]);
  });
});

describe('bannedAttachments over every archive kind', () => {
  it('rejects a banned program inside 7z, tar.gz, rar and TNEF attachments', async () => {
    const engine = createEngine().use(bannedAttachments());
    await engine.start();
    try {
      const cases: Array<[string, Buffer]> = [
        ['invoice.7z', make7z({ 'invoice.exe': clamExe })],
        ['invoice.tar.gz', gzipSync(makeTar([{ name: 'invoice.exe', data: clamExe }]))],
        ['invoice.rar', makeRar([{ name: 'invoice.exe', data: clamExe }])],
        ['winmail.dat', readFileSync(join(TESTFILES, 'clam.tnef'))],
      ];
      for (const [filename, content] of cases) {
        const v = await engine.scan(mail({ attachments: [{ filename, content }] }), {
          mailFrom: 'a@example.test',
          recipients: ['b@example.test'],
        });
        expect(v.disposition, filename).toBe('reject');
        expect(
          v.symbols.map((s) => s.name),
          filename,
        ).toContain('BANNED_REAL_TYPE');
      }
    } finally {
      await engine.stop();
    }
  });
});
