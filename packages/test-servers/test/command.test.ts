import { describe, expect, it } from 'vitest';
import { runCommand, startCommand } from '../src/index.js';

const node = process.execPath;

describe('startCommand / runCommand', () => {
  it('resolves at the ready line with what its group captured, and stops the process', async () => {
    const p = await startCommand(
      node,
      ['-e', "console.error('listening on 127.0.0.1:4242'); setInterval(() => {}, 1000)"],
      /listening on [^ ]+:(\d+)/,
      { timeoutMs: 20_000 },
    );
    expect(p.ready).toBe('4242');
    expect(p.stderr()).toContain('listening on');
    await p.stop();
    expect(p.child.exitCode !== null || p.child.signalCode !== null).toBe(true);
  });

  it('fails with the output when the process exits before it is ready', async () => {
    await expect(
      startCommand(node, ['-e', "console.log('bad config'); process.exit(2)"], /ready/, {
        timeoutMs: 20_000,
      }),
    ).rejects.toThrow(/was not ready .*exit 2.*bad config/s);
  });

  it('fails, and kills the process, when the ready line never comes in time', async () => {
    await expect(
      startCommand(node, ['-e', 'setInterval(() => {}, 1000)'], /ready/, { timeoutMs: 500 }),
    ).rejects.toThrow(/was not ready within 500 ms/);
  });

  it('runs a command to its end with standard input', async () => {
    const r = await runCommand(
      node,
      ['-e', "process.stdin.on('data', (d) => process.stdout.write('got ' + d))"],
      {
        stdin: 'secret\n',
      },
    );
    expect(r).toEqual({ code: 0, stdout: 'got secret\n', stderr: '' });
  });
});
