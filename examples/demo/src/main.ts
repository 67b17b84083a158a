import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeVerdict, scanFolder } from './demo.js';

const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'samples');
for (const { file, verdict } of await scanFolder(dir)) console.log(describeVerdict(file, verdict));
