// Run in the scratch project: a real scan with the installed packages, loaded as CommonJS.
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');
const { createEngine } = require('@mef/core');
const { bannedAttachments } = require('@mef/plugin-antivirus');
const { spamRules } = require('@mef/plugin-spam');

async function main() {
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
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
