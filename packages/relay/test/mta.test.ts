import { setTimeout as sleep } from 'node:timers/promises';
import { startPostfix, swaks } from '@mef/test-servers';
import { describe, expect, it } from 'vitest';
import { GTUBE, onCleanup, relay, sink, useCleanup } from './support/harness.js';

useCleanup();

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) if (check()) return true;
  return check();
}

describe('with real MTAs: swaks as the sender, Postfix behind and in front of the relay', () => {
  it('swaks through the relay to smtp-sink: clean mail arrives, GTUBE gets 554, an unknown domain 550', async () => {
    const s = await sink();
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } } });
    const base = ['--server', `127.0.0.1:${port}`, '--from', 'sender@example.test', '--helo', 'client.test'];
    const ok = await swaks([...base, '--to', 'x@a.test', '--body', 'sent by swaks']);
    expect(ok.output).toMatch(/<-\s+250 2\.0\.0 Ok: .* delivered to destination/);
    expect(s.messages()[0]).toContain('sent by swaks');
    const spam = await swaks([...base, '--to', 'x@a.test', '--body', GTUBE]);
    expect(spam.output).toMatch(/<\*\*\s+554 /);
    const unknown = await swaks([...base, '--to', 'x@elsewhere.test', '--body', 'hi']);
    expect(unknown.output).toMatch(/<\*\*\s+550 5\.7\.1 Relaying/);
  });

  it('delivers to a real Postfix as the destination', async () => {
    const s = await sink();
    const postfix = await startPostfix({ relayhost: `[127.0.0.1]:${s.port}`, relayDomains: ['a.test'] });
    onCleanup(() => postfix.stop());
    const { port } = await relay({ domains: { 'a.test': { destination: `127.0.0.1:${postfix.port}` } } });
    const r = await swaks([
      '--server',
      `127.0.0.1:${port}`,
      '--from',
      'sender@example.test',
      '--to',
      'x@a.test',
      '--body',
      'via postfix',
    ]);
    expect(r.output).toMatch(/<-\s+250 2\.0\.0 Ok: .* delivered to destination \(Ok: queued as/);
    expect(await waitFor(() => s.messages().some((m) => m.includes('via postfix')), 20_000)).toBe(true);
  });

  it('works behind Postfix (relayhost = the relay)', async () => {
    const s = await sink();
    const { port } = await relay({
      domains: { 'a.test': { destination: `127.0.0.1:${s.port}` } },
      outbound: { networks: ['127.0.0.0/8'], smarthost: `127.0.0.1:${s.port}` },
    });
    const postfix = await startPostfix({ relayhost: `[127.0.0.1]:${port}` });
    onCleanup(() => postfix.stop());
    const r = await swaks([
      '--server',
      `127.0.0.1:${postfix.port}`,
      '--from',
      'sender@example.test',
      '--to',
      'x@a.test',
      '--body',
      'postfix in front',
    ]);
    expect(r.output).toMatch(/<-\s+250 .*queued as/);
    expect(await waitFor(() => s.messages().some((m) => m.includes('postfix in front')), 20_000)).toBe(true);
    expect(s.messages().find((m) => m.includes('postfix in front'))).toMatch(/by relay\.test with ESMTP/);
  });
});
