import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GTUBE } from '@mef/plugin-spam';
import {
  type ClamdServer as Clamd,
  EICAR,
  eventually,
  freePort,
  type HarakaServer as Haraka,
  type SinkServer as Sink,
  startClamd,
  startHaraka,
  startRbldnsd,
  startSink,
  stopList,
  swaksTo as swaks,
  swaksAttach,
  swaksAuth,
} from '@mef/test-servers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/** Another Haraka plugin that reads MEF's results from transaction.results. */
const MEF_READER = `exports.hook_data_post = function (next, connection) {
  const r = connection.transaction.results.get('mef');
  if (r) connection.transaction.add_header('X-Mef-Reader', r.disposition + ' ' + r.score + ' ' + r.symbols.length);
  if (r) connection.transaction.add_header('X-Mef-Who', r.direction + ' ' + (r.user || '-'));
  if (r) connection.transaction.add_header('X-Mef-Symbols', r.symbols.map((s) => s.name).join(' ') || '-');
  next();
};
`;

/** Haraka's auth/flat_file users (it offers AUTH to a loopback client without TLS). */
const AUTH_USERS = '[core]\nmethods=PLAIN,LOGIN\n[users]\nalice=secret\n';

/**
 * Haraka with auth/flat_file, the plugin as `pnpm deploy` made it in its node_modules, `mefYaml` as its
 * config/mef.yaml, then mef_reader, delivering to the sink.
 */
async function startMefHaraka(mefYaml: string, more: Record<string, string> = {}): Promise<Haraka> {
  const home = mkdtempSync(join(tmpdir(), 'mef-home-'));
  const haraka = await startHaraka({
    plugins: ['auth/flat_file', 'mef', 'mef_reader'],
    sinkPort: sink.port,
    config: {
      me: 'haraka.test\n',
      'mef.yaml': mefYaml,
      'auth_flat_file.ini': AUTH_USERS,
      // Authenticated (relayed) mail goes to the sink too.
      'smtp_forward.ini': `host=127.0.0.1\nport=${sink.port}\nenable_tls=false\nenable_outbound=true\n`,
      ...more,
    },
    pluginFiles: { 'mef_reader.js': MEF_READER },
    modules: { 'haraka-plugin-mef': inject('deployed') },
    env: { MEF_HOME: home },
  });
  return {
    ...haraka,
    stop: async () => {
      await haraka.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

let clamd: Clamd;
let sink: Sink;
let haraka: Haraka;
const stops = stopList();

beforeAll(async () => {
  clamd = stops.add(await startClamd());
  sink = stops.add(await startSink());
  haraka = stops.add(
    await startMefHaraka(`clamav:\n  hosts: ['${clamd.address}']\nbayes:\n  enabled: false\n`),
  );
}, 120_000);

afterAll(() => stops.stopAll());

/**
 * What every set-up of the plugin must do, on the Haraka `get` gives (with `more` config files
 * for the extra Haraka the clamd-down case starts).
 */
function mefCases(get: () => Haraka, more: Record<string, string> = {}): void {
  it('refuses GTUBE with 5xx', async () => {
    const r = await swaks(get().port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
    expect(r.output).toMatch(/<\*\* 5\d\d 5\.7\.1 Message rejected as spam/);
  });

  it('refuses EICAR found by clamd', async () => {
    const r = await swaks(get().port, ['--to', 'user@dest.test', ...swaksAttach('eicar.txt', EICAR)]);
    expect(r.output).toMatch(/<\*\* 5\d\d .*Eicar-Test-Signature/i);
  });

  it('refuses GTUBE before 117 KB of text and EICAR after it (the message reaches the engine in two chunks)', async () => {
    // The plugin hands the message over in chunks of up to 64 KiB: the attachment is in a later one.
    const body = `${'a line of text to fill the body of the message\n'.repeat(2500)}end\n`;
    const r = await swaks(get().port, [
      '--to',
      'user@dest.test',
      '--body',
      body,
      ...swaksAttach('eicar.txt', EICAR),
    ]);
    expect(r.output).toMatch(/<\*\* 5\d\d .*Eicar-Test-Signature/i);
    // And the first chunk reaches it too: GTUBE before the 117 KB.
    const first = await swaks(get().port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}\n${body}`]);
    expect(first.output).toMatch(/<\*\* 5\d\d 5\.7\.1 Message rejected as spam/);
  });

  /** Sends a clean message (`auth`: as alice) and returns it as the sink received it. */
  async function clean(name: string, auth: readonly string[]): Promise<string> {
    const marker = `${name}-${Date.now()}-${Math.random()}`;
    const r = await swaks(get().port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`, ...auth]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(
      () => sink.messages().find((m) => m.includes(marker)),
      15_000,
      `the ${name} message at the sink`,
    );
    expect(msg).toMatch(/^X-Virus-Status: Clean\r?$/m);
    // Another Haraka plugin read MEF's results from transaction.results.
    expect(msg).toMatch(/^X-Mef-Reader: accept -?\d+(\.\d+)? \d+\r?$/m);
    return msg;
  }

  it('queues a clean message to the sink with the added headers', async () => {
    expect(await clean('clean', [])).toMatch(/^X-Mef-Who: inbound -\r?$/m);
  });

  it('gives the engine the user auth/flat_file accepted, with the outbound direction', async () => {
    expect(await clean('authenticated', swaksAuth('alice', 'secret'))).toMatch(
      /^X-Mef-Who: outbound alice\r?$/m,
    );
  });

  it('defers with 4xx when clamd is down under onError: tempfail', async () => {
    const dead = await startMefHaraka(
      `clamav:\n  hosts: ['127.0.0.1:${await freePort()}']\n  onError: tempfail\nbayes:\n  enabled: false\n`,
      more,
    );
    try {
      const r = await swaks(dead.port, ['--to', 'user@dest.test', '--body', 'hello']);
      expect(r.output).toMatch(/<\*\* 4\d\d 4\.\d\.\d Temporary failure in clamav/);
    } finally {
      await dead.stop();
    }
  });
}

/** Where the default config (`threads` auto) runs the message phase on this machine. */
const DEFAULT_WHERE = availableParallelism() >= 2 ? 'in 1 thread' : 'on the event loop';

describe('Haraka with haraka-plugin-mef (deployed with pnpm deploy), default config', () => {
  it('loads the plugin from node_modules with the engine of config/mef.yaml', () => {
    expect(haraka.log()).toMatch(/MEF engine with .*clamav/);
    // Message stages only: no envelope hook is registered; the engine hears the envelope at DATA,
    // and (threads auto) the message phase runs in one thread on a machine with 2 or more CPUs.
    expect(haraka.log()).toMatch(
      new RegExp(
        `MEF engine with [^\\n]*; hooks: data, data_post, disconnect, the message phase ${DEFAULT_WHERE}\\n`,
      ),
    );
  });

  mefCases(() => haraka);
});

describe('Haraka with a stage at the envelope phases (a DNS list)', () => {
  it('registers the envelope hooks, and the finding made at connect reaches the verdict', async () => {
    const dns = stops.add(
      await startRbldnsd([
        { zone: 'bl.mef.test', type: 'ip4set', content: ':127.0.0.2:Listed\n127.0.0.1\n' },
      ]),
    );
    const listed = stops.add(
      await startMefHaraka(
        `rbl:\n  dns: ['${dns.server}']\n  lists: [{ zone: bl.mef.test, score: 0.5 }]\nbayes:\n  enabled: false\n`,
      ),
    );
    expect(listed.log()).toMatch(
      /; hooks: connect, helo, ehlo, mail, rcpt, data, data_post, disconnect, the message phase on the event loop\n/,
    );
    const marker = `listed-${Date.now()}`;
    const r = await swaks(listed.port, ['--to', 'user@dest.test', '--header', `Subject: ${marker}`]);
    expect(r.status, r.output).toBe(0);
    const msg = await eventually(
      () => sink.messages().find((m) => m.includes(marker)),
      15_000,
      'the message of the listed client at the sink',
    );
    expect(msg).toMatch(/^X-Mef-Symbols: (.* )?RBL_BL( .*)?\r?$/m);
  });
});

describe('Haraka with the message phase on the event loop (config/mef.ini: threads=0)', () => {
  const NO_THREADS = { 'mef.ini': '[main]\nthreads=0\n' };
  let plain: Haraka;
  beforeAll(async () => {
    plain = stops.add(
      await startMefHaraka(`clamav:\n  hosts: ['${clamd.address}']\nbayes:\n  enabled: false\n`, NO_THREADS),
    );
  }, 120_000);

  it('runs the engine on the event loop', () => {
    expect(plain.log()).toMatch(
      /; hooks: data, data_post, disconnect, the message phase on the event loop\n/,
    );
  });

  mefCases(() => plain, NO_THREADS);
});

describe('Haraka with two threads (config/mef.ini: threads=2)', () => {
  it('runs the message phase in both and refuses GTUBE with 5xx', async () => {
    const two = stops.add(
      await startMefHaraka(`clamav:\n  hosts: ['${clamd.address}']\nbayes:\n  enabled: false\n`, {
        'mef.ini': '[main]\nthreads=2\n',
      }),
    );
    expect(two.log()).toMatch(/; hooks: data, data_post, disconnect, the message phase in 2 threads\n/);
    const r = await swaks(two.port, ['--to', 'user@dest.test', '--body', `spam ${GTUBE}`]);
    expect(r.output).toMatch(/<\*\* 5\d\d 5\.7\.1 Message rejected as spam/);
  });
});
