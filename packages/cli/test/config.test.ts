import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, mef, tempDir, writeConfig } from './helpers.js';

describe('configuration', () => {
  it('reports every bad key of a YAML file with its path, what was expected and what was found, and exits 2', async () => {
    const dir = tempDir();
    const file = writeConfig(
      dir,
      [
        'thresholds:',
        '  reject: high',
        'envelope:',
        '  rcpt: [1]',
        'clamav:',
        '  hosts: []',
        'colour: blue',
        '',
      ].join('\n'),
      'mef.yaml',
    );
    const r = await mef(['scan', '--config', file, 'samples']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: thresholds.reject: expected number, found "high"`);
    expect(r.stderr).toContain(`${file}: envelope.rcpt[0]: expected string, found 1`);
    expect(r.stderr).toMatch(/clamav\.hosts: expected array to have >=1 items, found \[\]/);
    expect(r.stderr).toContain(`${file}: colour: unknown key`);
  });

  it('names a bad command-line value by its option', async () => {
    const r = await mef(['scan', '--ip', 'not-an-ip', 'samples']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'command line (--ip): envelope.ip: expected an IPv4 or IPv6 address, found "not-an-ip"',
    );
    const noDns = await mef(['scan', '--rbl', 'zen', 'samples']);
    expect(noDns.code).toBe(2);
    expect(noDns.stderr).toMatch(/rbl\.dns: expected a DNS server/);
  });

  it('lets command-line options override the file', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, { thresholds: { reject: 5000 }, rules: { enabled: false } });
    const fromFile = jsonLines(
      (await mef(['scan', '--json', '--config', file, 'samples/02-gtube.eml'])).stdout,
    );
    expect(fromFile[0]?.symbols).toEqual([]);
    const withFlag = await mef(['scan', '--json', '--config', file, '--monitor', 'samples/02-gtube.eml']);
    expect(jsonLines(withFlag.stdout)[0]).toMatchObject({ disposition: 'accept' });
    const envFile = writeConfig(dir, { envelope: { ip: '192.0.2.9', rcpt: ['x@example.org'] } }, 'env.json');
    const r = await mef([
      'scan',
      '--json',
      '--config',
      envFile,
      '--ip',
      '198.51.100.1',
      'samples/01-ham.eml',
    ]);
    expect(r.code).toBe(0);
  });

  it('rejects a file that is not YAML, or not an object, with exit 2', async () => {
    const dir = tempDir();
    expect(
      (await mef(['scan', '--config', writeConfig(dir, '{ not json', 'bad.json'), 'samples'])).code,
    ).toBe(2);
    const list = await mef(['scan', '--config', writeConfig(dir, '- a\n- b\n', 'list.yaml'), 'samples']);
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/expected an object/);
    expect((await mef(['scan', '--config', join(dir, 'nope.yaml'), 'samples'])).code).toBe(2);
  });

  it('`mef config check` exits 0 on a valid file and 2 on an invalid one', async () => {
    const dir = tempDir();
    const good = writeConfig(
      dir,
      'thresholds:\n  reject: 20\n  greylist: null\nrbl:\n  dns: ["127.0.0.1:53"]\n  lists: [zen.spamhaus.org, { zone: other.test, score: 3 }]\n',
      'good.yaml',
    );
    const ok = await mef(['config', 'check', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid');
    const bad = await mef([
      'config',
      'check',
      writeConfig(dir, { rbl: { dns: ['x y'], lists: [{ zone: '' }] } }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rbl\.dns\[0\]: expected an IP address with an optional port, found "x y"/);
    expect(bad.stderr).toMatch(/rbl\.lists\[0\]/);
  });

  it('`mef config schema` prints a JSON Schema of every section', async () => {
    const r = await mef(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(schema.$schema).toMatch(/json-schema/);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'thresholds',
        'envelope',
        'rules',
        'attachments',
        'bayes',
        'clamav',
        'spamassassin',
        'rspamd',
        'rbl',
        'concurrency',
      ]),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('`mef config defaults` prints the built-in defaults, with the model path under MEF_HOME', async () => {
    const home = tempDir();
    const r = await mef(['config', 'defaults', '--json'], { env: { MEF_HOME: home } });
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(d).toMatchObject({
      thresholds: { reject: 15, addHeader: 6, greylist: 4 },
      rules: { enabled: true },
      attachments: { enabled: true },
      bayes: { enabled: 'auto', model: join(home, 'bayes.json') },
    });
    expect(d.clamav).toBeUndefined();
    const yaml = await mef(['config', 'defaults'], { env: { MEF_HOME: home } });
    expect(yaml.stdout).toContain('addHeader: 6');
    // The defaults validate against the schema.
    const file = join(home, 'defaults.json');
    writeFileSync(file, r.stdout);
    expect((await mef(['config', 'check', file])).code).toBe(0);
  });
});
