import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingReadmeExports, readmeApiNames } from '@mef/core/testing';
import { type NamedServer as Named, startNamed } from '@mef/test-servers';
import { BAD_IP, GOOD_IP, message, signed, zones } from '@mef/test-servers/auth-world';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthEngine } from '../examples/auth-engine.js';
import * as api from '../src/index.js';
import { authSymbols } from '../src/index.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
let named: Named;

beforeAll(async () => {
  named = await startNamed(zones());
});
afterAll(async () => {
  await named?.stop();
});

describe('README', () => {
  it('shows examples/auth-engine.ts as it is', () => {
    const file = readFileSync(join(root, 'examples', 'auth-engine.ts'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(file);
  });

  it('runs the example: DMARC p=reject failure gets 550, a signed message passes', async () => {
    const engine = createAuthEngine(named.server);
    await engine.start();
    try {
      const forged = await engine.scan(Buffer.from(message('ceo@pass.test')), {
        clientAddress: BAD_IP,
        mailFrom: 'ceo@pass.test',
        recipients: ['rcpt@example.test'],
      });
      expect(forged.disposition).toBe('reject');
      expect(forged.reply?.code).toBe(550);
      const good = await engine.scan(Buffer.from(await signed('pass.test', message('ceo@pass.test'))), {
        clientAddress: GOOD_IP,
        mailFrom: 'ceo@pass.test',
        recipients: ['rcpt@example.test'],
      });
      expect(good.disposition).toBe('accept');
      expect(good.symbols.map((s) => s.name)).toContain('DMARC_POLICY_ALLOW');
    } finally {
      await engine.stop();
    }
  });

  it('lists every symbol with its default score', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| [a-z]+ \| (-?[\d.]+) \|/gm)].map(
      (m) => [m[1], Number(m[2])] as const,
    );
    expect(Object.fromEntries(rows)).toEqual(authSymbols);
  });

  it('names only exports that exist', () => {
    expect(readmeApiNames(readme).length).toBeGreaterThan(5);
    expect(missingReadmeExports(readme, api)).toEqual([]);
  });
});
