import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder, joinStrings, ProtocolFlag, splitStrings } from '@mef/milter';
import { eventually, startPostfix, startSink, stopList, swaksTo as swaks } from '@mef/test-servers';
import { describe, expect, inject, it } from 'vitest';
import { eicar, freshHome, GTUBE, mef, tempDir } from './helpers.js';

/** A milter frame whose data is NUL-terminated strings. */
const f = (cmd: string, ...s: string[]) => encodeFrame(cmd, joinStrings(...s));

/** What an MTA sends first: option negotiation (version 6, every action and flag), CONNECT, HELO. */
function opening(): Buffer[] {
  const opt = Buffer.alloc(12);
  opt.writeUInt32BE(6, 0);
  opt.writeUInt32BE(0x1ff, 4);
  opt.writeUInt32BE(0x1fffff, 8);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(4000, 0);
  return [
    encodeFrame('O', opt),
    encodeFrame(
      'C',
      Buffer.concat([joinStrings('client.test'), Buffer.from('4'), portBytes, joinStrings('192.0.2.1')]),
    ),
    f('H', 'client.test'),
  ];
}

/** One MTA session over the milter protocol; resolves with the reply to end of message. */
function session(
  port: number,
  body: string,
  headers: [string, string][] = [],
): Promise<{ command: string; text: string }> {
  const wire = Buffer.concat([
    ...opening(),
    f('M', '<a@example.test>'),
    f('R', '<b@example.test>'),
    f('L', 'From', ' a@example.test'),
    f('L', 'Subject', ' hello'),
    ...headers.map(([k, v]) => f('L', k, ` ${v}`)),
    f('N'),
    f('B', body),
    f('E'),
  ]);
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const frames: { command: string; data: Buffer }[] = [];
    const s = connect({ host: '127.0.0.1', port }, () => s.write(wire));
    s.setTimeout(10_000, () => reject(new Error('no reply to end of message')));
    s.on('error', reject);
    // The commands sent before end of message, each with the flag by which the milter says it
    // sends no reply to it (it asks for those of the phases where no stage acts).
    const sent: number[] = [
      ProtocolFlag.NR_CONN,
      ProtocolFlag.NR_HELO,
      ProtocolFlag.NR_MAIL,
      ProtocolFlag.NR_RCPT,
      ...Array<number>(2 + headers.length).fill(ProtocolFlag.NR_HDR),
      ProtocolFlag.NR_EOH,
      ProtocolFlag.NR_BODY,
    ];
    s.on('data', (d: Buffer) => {
      frames.push(...decoder.push(d));
      const optneg = frames[0];
      if (!optneg) return;
      if (optneg.command !== 'O')
        return reject(new Error(`expected the option reply, got ${optneg.command}`));
      const flags = optneg.data.readUInt32BE(8);
      const replies = sent.filter((nr) => (flags & nr) === 0).length;
      // The option reply, a reply to each command not marked no-reply, then end of message's.
      const final = frames.slice(1 + replies).find((x) => 'cyrtd'.includes(x.command));
      if (final) {
        s.destroy();
        resolve({ command: final.command, text: splitStrings(final.data)[0] ?? '' });
      }
    });
  });
}

/** `mef milter` with `config` (YAML) started; resolves once it listens, with its port and log. */
async function startMilter(
  config: string,
): Promise<{ port: number; stderr: () => string; stop: () => Promise<number | null> }> {
  const file = join(tempDir(), 'mef.yaml');
  writeFileSync(file, config);
  const child = spawn(process.execPath, [inject('bin'), 'milter', '--config', file], {
    env: { PATH: process.env.PATH ?? '', MEF_HOME: freshHome() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on inet:127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`mef milter exited: ${stderr}`)));
  });
  const stop = () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  };
  return { port, stderr: () => stderr, stop };
}

const CLAMAV = () => `clamav:\n  hosts: ['127.0.0.1:${inject('clamdPort')}']\n`;

describe('mef milter', () => {
  // The default (the event loop), auto (one thread with 2 or more CPUs), two threads.
  const settings = [
    { threads: '', where: 'on the event loop' },
    {
      threads: '  threads: auto\n',
      where: availableParallelism() >= 2 ? 'in 1 thread' : 'on the event loop',
    },
    { threads: '  threads: 2\n', where: 'in 2 threads' },
  ];
  it.each(settings)(
    'serves the engine of the config file until SIGTERM (message phase $where)',
    async ({ threads, where }) => {
      const milter = await startMilter(
        `milter:\n  listen: { host: 127.0.0.1, port: 0 }\n${threads}${CLAMAV()}`,
      );
      try {
        expect(milter.stderr()).toMatch(/clamav/);
        expect(milter.stderr()).toContain(`the message phase ${where})`);
        const spam = await session(milter.port, `${GTUBE}\r\n`);
        expect(spam.command).toBe('y');
        expect(spam.text).toMatch(/^554 5\.7\.1 Message rejected as spam/);
        const virus = await session(
          milter.port,
          [
            '--b',
            'Content-Type: text/plain',
            '',
            'see attached',
            '--b',
            'Content-Type: application/octet-stream',
            'Content-Disposition: attachment; filename="eicar.com"',
            'Content-Transfer-Encoding: base64',
            '',
            Buffer.from(eicar()).toString('base64'),
            '--b--',
            '',
          ].join('\r\n'),
          [
            ['MIME-Version', '1.0'],
            ['Content-Type', 'multipart/mixed; boundary="b"'],
          ],
        );
        expect(virus.command).toBe('y');
        expect(virus.text).toMatch(/^5\d\d 5\.7\.\d .*Eicar/i);
        expect((await session(milter.port, 'hello\r\n')).command).toBe('c');
      } finally {
        expect(await milter.stop()).toBe(0);
      }
    },
  );

  it('drops a message the MTA aborts in its thread, and answers the next one on the connection', async () => {
    const milter = await startMilter(
      `milter:\n  listen: { host: 127.0.0.1, port: 0 }\n  threads: 1\n${CLAMAV()}`,
    );
    try {
      expect(milter.stderr()).toContain('the message phase in 1 thread)');
      const message = (body: string) => [
        f('M', '<a@example.test>'),
        f('R', '<b@example.test>'),
        f('L', 'Subject', ' hello'),
        f('N'),
        f('B', body),
      ];
      // A GTUBE message aborted before its end, then a clean one on the same connection.
      const wire = Buffer.concat([
        ...opening(),
        ...message(`${GTUBE}\r\n`),
        f('A'),
        ...message('hello\r\n'),
        f('E'),
      ]);
      const finals = await new Promise<string[]>((resolve, reject) => {
        const decoder = new FrameDecoder();
        const seen: string[] = [];
        const s = connect({ host: '127.0.0.1', port: milter.port }, () => s.write(wire));
        s.setTimeout(10_000, () => reject(new Error(`no reply to end of message (got ${seen.join(' ')})`)));
        s.on('error', reject);
        s.on('data', (d: Buffer) => {
          for (const frame of decoder.push(d)) if ('cyrtd'.includes(frame.command)) seen.push(frame.command);
          if (seen.length) {
            // Any answer meant for the aborted message would come before the clean one's.
            setTimeout(() => {
              s.destroy();
              resolve(seen);
            }, 300);
          }
        });
      });
      expect(finals).toEqual(['c']);
    } finally {
      expect(await milter.stop()).toBe(0);
    }
  });

  it('runs a real Postfix with threads: 1: GTUBE refused with our 5xx, clean mail delivered with our header', async () => {
    const stops = stopList();
    try {
      const milter = await startMilter(
        `milter:\n  listen: { host: 127.0.0.1, port: 0 }\n  threads: 1\n${CLAMAV()}`,
      );
      stops.defer(async () => void (await milter.stop()));
      const sink = stops.add(await startSink());
      const postfix = stops.add(
        await startPostfix({ relayhost: `[127.0.0.1]:${sink.port}`, milter: { port: milter.port } }),
      );
      const spam = await swaks(postfix.port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
      expect(spam.output).toMatch(/<\*\* 5\d\d 5\.7\.1 Message rejected as spam/);
      const marker = `threaded-${Date.now()}`;
      const clean = await swaks(postfix.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
      expect(clean.status, clean.output).toBe(0);
      const msg = await eventually(
        () => sink.messages().find((m) => m.includes(marker)),
        15_000,
        'the clean message at the sink',
      );
      expect(msg).toMatch(/^X-Virus-Status: Clean\r?$/m);
    } finally {
      await stops.stopAll();
    }
  });

  it('refuses a config without a milter section, and a bad listen value', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'none.yaml'), 'monitor: false\n');
    const none = await mef(['milter', '--config', join(dir, 'none.yaml')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/milter\.listen: expected a port or a socket path, found nothing/);
    writeFileSync(join(dir, 'bad.yaml'), 'milter:\n  listen: { port: "x" }\n');
    const bad = await mef(['milter', '--config', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/milter\.listen/);
  });
});
