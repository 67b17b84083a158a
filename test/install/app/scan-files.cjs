// Shared by scan.mjs and scan.cjs: scans the files with the packages each loaded its own way.
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');

module.exports = async function scanFiles({ createEngine, bannedAttachments, spamRules }, files) {
  const engine = createEngine().use(spamRules()).use(bannedAttachments());
  const out = {};
  for (const file of files) {
    const v = await engine.scan(readFileSync(file), {
      mailFrom: 'a@example.net',
      recipients: ['b@example.org'],
    });
    out[basename(file)] = { disposition: v.disposition, symbols: v.symbols.map((s) => s.name) };
  }
  await engine.stop();
  return out;
};
