import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Verdict } from '@mef/core';
import { createEngine, toSmtpReply } from '@mef/core/hosts';
import { doubleExtension, gtube } from './plugins.js';

/** Scans every `.eml` in a folder and returns the verdicts in file order. */
export async function scanFolder(dir: string): Promise<{ file: string; verdict: Verdict }[]> {
  const engine = createEngine().use(gtube()).use(doubleExtension());
  await engine.start();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
  const out: { file: string; verdict: Verdict }[] = [];
  for (const file of files) {
    const verdict = await engine.scan(await readFile(join(dir, file)), {
      clientAddress: '192.0.2.25',
      helo: 'mail.example.test',
      mailFrom: 'sender@example.test',
      recipients: ['bob@example.test'],
    });
    out.push({ file, verdict });
  }
  await engine.stop();
  return out;
}

/** One printable line per verdict. */
export function describeVerdict(file: string, v: Verdict): string {
  const r = toSmtpReply(v);
  const symbols = v.symbols.map((s) => `${s.name}(${s.score})`).join(' ') || '-';
  return `${file.padEnd(28)} ${v.disposition.padEnd(9)} score ${String(v.score.value).padStart(6)}  ${r.code} ${r.enhanced} ${r.lines.join(' ')}  [${symbols}]`;
}
