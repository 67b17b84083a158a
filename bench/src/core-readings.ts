/**
 * The cost of reading an ambiguous message every way. The same 1 MiB attachment goes through
 * the engine (one stage asking for every part) in a well-formed message and in one whose
 * Content-Type carries two boundary parameters (so the message is read again under the other
 * policies, and the parts of the other readings are offered too), beside mailsplit's Splitter
 * plus decoding of every part on each message. Prints MB/s medians, ratios and the machine
 * line; writes bench/results/core-readings.md.
 *
 * Run: pnpm --filter @mef/bench exec tsx --conditions=@mef/source src/core-readings.ts [rounds]
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Plugin } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { machineLine, median, table, time } from './machine.js';
import { splitterDecode } from './mailsplit.lib.js';

const rounds = Number(process.argv[2] ?? 40);

const attachment = Buffer.alloc(1024 * 1024);
for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 7919) % 251;
const b64 = (attachment.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
const part = `Content-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
const head = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: bench\r\nMIME-Version: 1.0\r\n';
const wellFormed = Buffer.from(
  `${head}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\n${part}--B--\r\n`,
);
// The attachment sits between the delimiters of the second boundary: one reading sees it as
// part of a text part, the other as an attachment of its own.
const ambiguous = Buffer.from(
  `${head}Content-Type: multipart/mixed; boundary="OUT"; boundary="IN"\r\n\r\n--OUT\r\nContent-Type: text/plain\r\n\r\nhello\r\n--IN\r\n${part}--IN--\r\n--OUT--\r\n`,
);

const chunks = (b: Buffer) =>
  Readable.from(
    Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536)),
  );

let offered = 0;
const partsStage: Plugin = {
  name: 'all-parts',
  async message(ctx) {
    const work: Promise<void>[] = [];
    ctx.message.parts({}, (p) => {
      offered++;
      p.content.resume();
      const done = once(p.content, 'end').then(() => undefined);
      work.push(done);
      return done;
    });
    await ctx.message.ended();
    await Promise.all(work);
  },
};

async function main(): Promise<void> {
  const engine = createEngine().use(partsStage);
  await engine.start();
  const scan = (m: Buffer) => async () => {
    const v = await engine.scan(chunks(m), { recipients: ['b@example.test'] });
    if (v.disposition !== 'accept') throw new Error(`unexpected verdict ${v.disposition}`);
  };
  const variants: [string, Buffer, () => Promise<void>][] = [
    ['well-formed: Splitter + decoding (baseline)', wellFormed, () => splitterDecode(chunks(wellFormed))],
    ['well-formed: engine, stage asking for all parts', wellFormed, scan(wellFormed)],
    ['ambiguous: Splitter + decoding (one reading)', ambiguous, () => splitterDecode(chunks(ambiguous))],
    ['ambiguous: engine, every reading', ambiguous, scan(ambiguous)],
  ];
  const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  const parts = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, , fn] of variants) {
      offered = 0;
      times.get(name)!.push(await time(fn));
      parts.set(name, offered);
    }
  }
  await engine.stop();
  const mbps = (name: string, size: number) => size / 1e6 / median(times.get(name)!);
  const rows = variants.map(([name, msg]) => [
    name,
    mbps(name, msg.length).toFixed(0),
    (median(times.get(name)!) * 1000).toFixed(2),
    name.includes('engine') ? String(parts.get(name)) : '-',
  ]);
  const wfRatio = mbps(variants[1]![0], wellFormed.length) / mbps(variants[0]![0], wellFormed.length);
  const extra = median(times.get(variants[3]![0])!) / median(times.get(variants[1]![0])!);
  const md = [
    '## Core: every reading of an ambiguous message',
    '',
    `Machine: ${machineLine()}`,
    '',
    'Command: `pnpm bench core` (bench/src/core-readings.ts)',
    '',
    `- well-formed ${(wellFormed.length / 1e6).toFixed(2)} MB message: engine with parts at ${wfRatio.toFixed(2)} x Splitter+decoding (read once)`,
    `- ambiguous message (two boundary parameters, same attachment): ${extra.toFixed(2)} x the time of the well-formed one through the engine (the splitter's pass, then the kept bytes read again under five policies; the attachment the splitter saw inside a text part is offered again as a part of its own)`,
    '',
    `Median of ${rounds} rounds.`,
    '',
    table(['path', 'MB/s', 'ms per message', 'parts offered'], rows),
  ].join('\n');
  console.log(md);
  await writeFile(new URL('../results/core-readings.md', import.meta.url), `${md}\n`);
}

await main();
