import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame, FrameDecoder, joinStrings, splitStrings } from '@mef/milter';
import { freePort } from '@mef/test-servers';
import { smtpClient } from '@mef/test-servers/smtp-client';
import { describe, expect, it } from 'vitest';
import { startHaraka } from '../src/haraka.js';
import { startMilter } from '../src/milter.js';
import { startSmtpServer } from '../src/smtp-server.js';

const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-', 'STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');

function send(port: number, text: string) {
  return smtpClient(port).sendMail({
    from: 'a@example.test',
    to: 'b@example.test',
    subject: 'hello',
    text,
  });
}

describe('examples/hosts', () => {
  it('milter: refuses GTUBE at end of message with a 554 REPLYCODE', async () => {
    const m = await startMilter(0);
    try {
      const f = (cmd: string, ...s: string[]) => encodeFrame(cmd, joinStrings(...s));
      const opt = Buffer.alloc(12);
      opt.writeUInt32BE(6, 0);
      opt.writeUInt32BE(0x1ff, 4);
      opt.writeUInt32BE(0x1fffff, 8);
      const wire = Buffer.concat([
        encodeFrame('O', opt),
        encodeFrame(
          'C',
          Buffer.concat([
            joinStrings('c.test'),
            Buffer.from('4'),
            Buffer.from([0, 25]),
            joinStrings('192.0.2.1'),
          ]),
        ),
        f('M', '<a@example.test>'),
        f('R', '<b@example.test>'),
        f('L', 'Subject', ' hi'),
        f('N'),
        f('B', `${GTUBE}\r\n`),
        f('E'),
      ]);
      const reply = await new Promise<string>((resolve, reject) => {
        const d = new FrameDecoder();
        const got: { command: string; data: Buffer }[] = [];
        const s = connect({ host: '127.0.0.1', port: m.port }, () => s.write(wire));
        s.on('error', reject);
        s.on('data', (b: Buffer) => {
          got.push(...d.push(b));
          const y = got.find((x) => x.command === 'y');
          if (y) {
            s.destroy();
            resolve(splitStrings(y.data)[0] ?? '');
          }
        });
      });
      expect(reply).toMatch(/^554 5\.7\.1 Message rejected as spam/);
    } finally {
      await m.stop();
    }
  });

  it('smtp-server: refuses GTUBE and delivers clean mail', async () => {
    const delivered: Buffer[] = [];
    const s = await startSmtpServer(0, (m) => delivered.push(m));
    try {
      await expect(send(s.port, GTUBE)).rejects.toMatchObject({ responseCode: 554 });
      await send(s.port, 'a clean message');
      expect(delivered.map(String).join('')).toMatch(/a clean message/);
    } finally {
      await s.stop();
    }
  });

  it('haraka: refuses GTUBE with 5xx and queues clean mail', async () => {
    const port = await freePort();
    const child = await startHaraka(port);
    try {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      for (let i = 0; i < 300 && !/Listening on/i.test(out); i++) await sleep(100);
      await expect(send(port, GTUBE)).rejects.toMatchObject({ response: expect.stringMatching(/^5\d\d /) });
      expect((await send(port, 'a clean message')).response).toMatch(/^250 /);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
