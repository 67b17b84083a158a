// Run in the scratch project: a real scan with the installed packages, loaded as ESM.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createEngine } from '@mef/core';
import { bannedAttachments } from '@mef/plugin-antivirus';
import { spamRules } from '@mef/plugin-spam';

const engine = createEngine().use(spamRules()).use(bannedAttachments());
const out = {};
for (const file of process.argv.slice(2)) {
  const v = await engine.scan(readFileSync(file), {
    mailFrom: 'a@example.net',
    recipients: ['b@example.org'],
  });
  out[basename(file)] = { disposition: v.disposition, symbols: v.symbols.map((s) => s.name) };
}
await engine.stop();
console.log(JSON.stringify(out));
