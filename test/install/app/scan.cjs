// Run in the scratch project: a real scan with the installed packages, loaded as CommonJS.
const { createEngine } = require('@mef/core/hosts');
const { bannedAttachments } = require('@mef/plugin-antivirus');
const { spamRules } = require('@mef/plugin-spam');
const scanFiles = require('./scan-files.cjs');

scanFiles({ createEngine, bannedAttachments, spamRules }, process.argv.slice(2)).then(
  (out) => console.log(JSON.stringify(out)),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
