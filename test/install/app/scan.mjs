// Run in the scratch project: a real scan with the installed packages, loaded as ESM.
import { createRequire } from 'node:module';
import { createEngine } from '@mef/core/hosts';
import { bannedAttachments } from '@mef/plugin-antivirus';
import { spamRules } from '@mef/plugin-spam';

const scanFiles = createRequire(import.meta.url)('./scan-files.cjs');
const out = await scanFiles({ createEngine, bannedAttachments, spamRules }, process.argv.slice(2));
console.log(JSON.stringify(out));
