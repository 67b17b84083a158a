import { describe, expect, it } from 'vitest';
import { eicar } from './support/eicar.js';
import { envelope, symbolOptions as options, useScanEngine } from './support/scan-engine.js';
import { thunderbirdCases } from './support/thunderbird.js';

describe("Thunderbird's readings (from its MIME code): the payload it shows is found", () => {
  const scan = useScanEngine();

  for (const c of thunderbirdCases({ filename: 'evil.exe', content: eicar() })) {
    it(c.name, async () => {
      const v = await scan.engine.scan(c.message, envelope);
      expect(v.disposition).toBe('reject');
      expect(options(v, 'CLAMAV_VIRUS')).toContain('Eicar-Test-Signature.UNOFFICIAL');
      expect(options(v, 'BANNED_EXTENSION').join(' ')).toContain('evil.exe');
    });
  }
});
