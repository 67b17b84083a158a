import { makeZip } from '@mef/test-servers/zip';
import { describe, expect, inject, it } from 'vitest';
import { createAntivirusEngine } from '../examples/antivirus-engine.js';
import { eicar } from './support/eicar.js';
import { mail } from './support/mail.js';

const port = inject('clamdPort');
const envelope = {
  clientAddress: '192.0.2.10',
  mailFrom: 'alice@example.test',
  recipients: ['bob@example.test'],
};

describe('README example (examples/antivirus-engine.ts)', () => {
  it('rejects a virus, rejects a banned attachment, passes clean mail with headers', async () => {
    const engine = createAntivirusEngine({ clamd: ['127.0.0.1:1', `127.0.0.1:${port}`] });
    await engine.start();
    try {
      const virus = await engine.scan(
        mail({ attachments: [{ filename: 'a.txt', content: eicar() }] }),
        envelope,
      );
      expect(virus.disposition).toBe('reject');
      expect(virus.reply?.lines[0]).toBe('Virus found: Eicar-Test-Signature.UNOFFICIAL');

      const zip = makeZip([{ name: 'invoice.pdf.exe', data: Buffer.from('MZ') }]);
      const banned = await engine.scan(
        mail({ attachments: [{ filename: 'invoice.zip', content: zip }] }),
        envelope,
      );
      expect(banned.disposition).toBe('reject');
      expect(banned.symbols.map((s) => s.name)).toContain('BANNED_DOUBLE_EXTENSION');

      const allowed = await engine.scan(
        mail({ attachments: [{ filename: 'signed-installer-42.msi', content: Buffer.from('installer') }] }),
        envelope,
      );
      expect(allowed.disposition).toBe('accept');

      const clean = await engine.scan(mail(), envelope);
      expect(clean.disposition).toBe('accept');
      expect(clean.mutations.map((m) => (m.op === 'add' ? `${m.name}: ${m.value}` : m.op))).toContain(
        'X-Virus-Status: Clean',
      );
    } finally {
      await engine.stop();
    }
  });

  it('tempfails when no clamd answers', async () => {
    const engine = createAntivirusEngine({ clamd: ['127.0.0.1:1'] });
    const v = await engine.scan(mail(), envelope);
    await engine.stop();
    expect(v.disposition).toBe('tempfail');
    expect(v.reply?.code).toBe(451);
  });
});
