import type { Verdict } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bannedAttachments, clamav } from '../src/index.js';
import { eicar } from './support/eicar.js';
import { thunderbirdCases } from './support/thunderbird.js';

const port = inject('clamdPort');
const envelope = { mailFrom: 'mallory@example.test', recipients: ['bob@example.test'] };
const options = (v: Verdict, name: string) => v.symbols.find((s) => s.name === name)?.options ?? [];

describe("Thunderbird's readings (from its MIME code): the payload it shows is found", () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = createEngine()
      .use(clamav({ hosts: [`127.0.0.1:${port}`], mode: 'parts' }))
      .use(bannedAttachments());
    await engine.start();
  });
  afterAll(async () => {
    await engine.stop();
  });

  for (const c of thunderbirdCases({ filename: 'evil.exe', content: eicar() })) {
    it(c.name, async () => {
      const v = await engine.scan(c.message, envelope);
      expect(v.disposition).toBe('reject');
      expect(options(v, 'CLAMAV_VIRUS')).toContain('Eicar-Test-Signature.UNOFFICIAL');
      expect(options(v, 'BANNED_EXTENSION').join(' ')).toContain('evil.exe');
    });
  }
});
