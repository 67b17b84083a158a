import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClamdClient } from '../src/index.js';
import { eicar } from './support/eicar.js';
import { mail } from './support/mail.js';
import { envelope, symbolOptions as options, useScanEngine } from './support/scan-engine.js';

/** Counts the INSTREAM sessions the client opens, and the bytes each was sent. */
function countScans(client: ClamdClient): Buffer[] {
  const sent: Buffer[] = [];
  const open = client.instream.bind(client);
  client.instream = async (signal) => {
    const session = await open(signal);
    const chunks: Buffer[] = [];
    const write = session.write.bind(session);
    session.write = (chunk) => {
      chunks.push(Buffer.from(chunk));
      return write(chunk);
    };
    const end = session.end.bind(session);
    session.end = () => {
      sent.push(Buffer.concat(chunks));
      return end();
    };
    return session;
  };
  return sent;
}

describe('a message read again scans each part once', () => {
  const scan = useScanEngine();
  let sent: Buffer[];
  beforeAll(() => {
    sent = countScans(scan.clamav.client);
  });

  it('sends a part seen before a late finding to clamd once, not again from the second reading', async () => {
    // The attached message is opened by the splitter after the EICAR part has gone by; a part
    // inside it has two transfer-encoding fields, so the whole message is then read again
    // from the start, and every part of it comes again (same names, types and bytes).
    const inner = mail({
      subject: 'fwd',
      attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: '%PDF-1.4 inner' }],
    }).replace('Content-Transfer-Encoding: base64\r\n', 'Content-Transfer-Encoding: base64\r\n'.repeat(2));
    const message = mail({
      attachments: [
        { filename: 'evil.com', content: eicar() },
        { contentType: 'message/rfc822', content: inner, filename: 'fwd.eml' },
      ],
    });
    sent.length = 0;
    const v = await scan.engine.scan(message, envelope);
    expect(v.disposition).toBe('reject');
    const virus = options(v, 'CLAMAV_VIRUS');
    expect(virus).toContain('Eicar-Test-Signature.UNOFFICIAL');
    expect(virus.filter((o) => o.includes('evil.com'))).toEqual(['part 2 (evil.com)']);
    expect(options(v, 'MIME_AMBIGUOUS')).toEqual(['duplicate-field']);
    // Each distinct content went to clamd once, the inner pdf too.
    const distinct = new Set(sent.map((b) => b.toString('latin1')));
    expect(sent.length).toBe(distinct.size);
    expect(sent.some((b) => b.toString('latin1') === '%PDF-1.4 inner')).toBe(true);
    expect(sent.filter((b) => b.equals(eicar()))).toHaveLength(1);
  });

  it('still scans a part of another reading whose bytes differ from every part of the splitter', async () => {
    const boundary = 'outer';
    const message = [
      'From: a@example.test',
      'To: b@example.test',
      'Subject: two boundaries',
      `Content-Type: multipart/mixed; boundary="${boundary}"; boundary="hidden"`,
      '',
      '--hidden',
      'Content-Type: application/octet-stream; name="evil.com"',
      'Content-Transfer-Encoding: base64',
      '',
      eicar().toString('base64'),
      '--hidden--',
      `--${boundary}`,
      'Content-Type: text/plain',
      '',
      'clean',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    sent.length = 0;
    const v = await scan.engine.scan(message, envelope);
    expect(v.disposition).toBe('reject');
    expect(options(v, 'CLAMAV_VIRUS')).toContain('Eicar-Test-Signature.UNOFFICIAL');
    expect(sent.filter((b) => b.equals(eicar()))).toHaveLength(1);
  });

  it('gives the banned check one finding for a nameless program seen before an attached message', async () => {
    const inner = mail({ subject: 'fwd' });
    const message = mail({
      attachments: [
        { content: readFileSync('/usr/share/clamav-testfiles/clam.exe') },
        { contentType: 'message/rfc822', content: inner, filename: 'fwd.eml' },
      ],
    });
    const v = await scan.engine.scan(message, envelope);
    expect(v.disposition).toBe('reject');
    expect(options(v, 'BANNED_REAL_TYPE')).toEqual(['part 2: exe']);
  });
});
