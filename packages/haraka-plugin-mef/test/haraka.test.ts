import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GTUBE } from '@mef/plugin-spam';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Clamd, EICAR, startClamd } from './support/clamd.js';
import {
  eventually,
  freePort,
  type Haraka,
  type Sink,
  startHaraka,
  startSink,
  swaks,
} from './support/servers.js';

let clamd: Clamd;
let sink: Sink;
let haraka: Haraka;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  clamd = await startClamd();
  stops.push(() => clamd.stop());
  sink = await startSink();
  stops.push(() => sink.stop());
  haraka = await startHaraka({
    deployed: inject('deployed'),
    sinkPort: sink.port,
    mefYaml: `clamav:\n  hosts: ['${clamd.address}']\nbayes:\n  enabled: false\n`,
  });
  stops.push(() => haraka.stop());
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('Haraka with haraka-plugin-mef (deployed with pnpm deploy)', () => {
  it('loads the plugin from node_modules with the engine of config/mef.yaml', () => {
    expect(haraka.log()).toMatch(/MEF engine with .*clamav/);
  });

  it('refuses GTUBE with 5xx', async () => {
    const r = await swaks(haraka.port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
    expect(r.output).toMatch(/<\*\* 5\d\d 5\.7\.1 Message rejected as spam/);
  });

  it('refuses EICAR found by clamd', async () => {
    const file = join(tmpdir(), `mef-eicar-${process.pid}.txt`);
    writeFileSync(file, EICAR);
    const r = await swaks(haraka.port, [
      '--to',
      'user@dest.test',
      '--attach-type',
      'application/octet-stream',
      '--attach-name',
      'eicar.txt',
      '--attach',
      `@${file}`,
    ]);
    expect(r.output).toMatch(/<\*\* 5\d\d .*Eicar-Test-Signature/i);
  });

  it('queues a clean message to the sink with the added headers', async () => {
    const marker = `clean-${Date.now()}`;
    const r = await swaks(haraka.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(
      () => sink.messages().find((m) => m.includes(marker)),
      15_000,
      'the clean message at the sink',
    );
    expect(msg).toMatch(/^X-Virus-Status: Clean\r?$/m);
    // Another Haraka plugin read MEF's results from transaction.results.
    expect(msg).toMatch(/^X-Mef-Reader: accept -?\d+(\.\d+)? \d+\r?$/m);
  });

  it('defers with 4xx when clamd is down under onError: tempfail', async () => {
    const dead = await startHaraka({
      deployed: inject('deployed'),
      sinkPort: sink.port,
      mefYaml: `clamav:\n  hosts: ['127.0.0.1:${await freePort()}']\n  onError: tempfail\nbayes:\n  enabled: false\n`,
    });
    try {
      const r = await swaks(dead.port, ['--to', 'user@dest.test', '--body', 'hello']);
      expect(r.output).toMatch(/<\*\* 4\d\d 4\.\d\.\d Temporary failure in clamav/);
    } finally {
      await dead.stop();
    }
  });
});
