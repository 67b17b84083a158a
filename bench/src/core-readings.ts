/**
 * The cost of reading an ambiguous message every way. The same 1 MiB attachment goes through
 * the engine (one stage asking for every part) in a well-formed message and in one whose
 * Content-Type carries two boundary parameters (so the message is read again under the other
 * policies, and the parts of the other readings are offered too), beside mailsplit's Splitter
 * plus decoding of every part on each message. Prints MB/s medians, ratios and the machine
 * line; writes bench/results/core-readings.md.
 *
 * Run: cd bench && node --import tsx --conditions=@mef/source src/core-readings.ts [rounds] [runs]
 * (or `pnpm bench core-readings`, which runs it with the defaults: 40 rounds, 3 runs).
 */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { mimeReadings, type Plugin } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { machineLine, median, table, time } from './machine.js';
import { splitterDecode } from './mailsplit.lib.js';

const rounds = Number(process.argv[2] ?? 40);
const runs = Number(process.argv[3] ?? 3);

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
/** The readings the engine ran beside the splitter's on the last message. */
let readingsRun: readonly string[] = [];
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
    readingsRun = (await mimeReadings(ctx.message)).readings;
  },
};

interface Run {
  load: [number, number];
  wfRatio: number;
  extra: number;
  ms: Map<string, number>;
  parts: Map<string, number>;
  readings: Map<string, readonly string[]>;
}

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
  const name = (i: number) => variants[i]![0];
  const results: Run[] = [];
  for (let run = 0; run < runs; run++) {
    const loadBefore = loadavg()[0]!;
    const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    const parts = new Map<string, number>();
    const readings = new Map<string, readonly string[]>();
    for (let r = 0; r < rounds; r++) {
      for (const [n, , fn] of variants) {
        offered = 0;
        times.get(n)!.push(await time(fn));
        parts.set(n, offered);
        readings.set(n, readingsRun);
      }
    }
    const ms = new Map([...times].map(([n, t]) => [n, median(t) * 1000]));
    // Time ratios: the engine's time per message over the baseline's (well-formed), and the
    // ambiguous message's time over the well-formed one's, both through the engine.
    const wfRatio = ms.get(name(0))! / ms.get(name(1))!;
    const extra = ms.get(name(3))! / ms.get(name(1))!;
    results.push({ load: [loadBefore, loadavg()[0]!], wfRatio, extra, ms, parts, readings });
    console.log(
      `run ${run + 1}: engine/Splitter ${wfRatio.toFixed(2)}, ambiguous extra ${extra.toFixed(2)} x`,
    );
  }
  await engine.stop();
  const med = (f: (r: Run) => number) => median(results.map(f));
  const rows = variants.map(([n, msg]) => {
    const m = med((r) => r.ms.get(n)!);
    return [
      n,
      (msg.length / 1e3 / m).toFixed(0),
      m.toFixed(2),
      n.includes('engine') ? String(results[0]!.parts.get(n)) : '-',
    ];
  });
  const runRows = results.map((r, i) => [
    String(i + 1),
    `${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}`,
    r.wfRatio.toFixed(2),
    r.extra.toFixed(2),
  ]);
  const readAgain = results[0]!.readings.get(name(3))!;
  const readOnce = results[0]!.readings.get(name(1))!;
  if (readOnce.length) throw new Error(`the well-formed message was read again: ${readOnce.join(', ')}`);
  const md = [
    '## Core: every reading of an ambiguous message',
    '',
    `Machine: ${machineLine()}`,
    '',
    `Command: \`cd bench && node --import tsx --conditions=@mef/source src/core-readings.ts ${rounds} ${runs}\``,
    '',
    `- well-formed ${(wellFormed.length / 1e6).toFixed(2)} MB message: engine with parts at ${med((r) => r.wfRatio).toFixed(2)} x Splitter+decoding (read once)`,
    `- ambiguous message (two boundary parameters, same attachment): ${med((r) => r.extra).toFixed(2)} x the time of the well-formed one through the engine (the splitter's pass, then the kept bytes read again under ${readAgain.length} readings: ${readAgain.join(', ')}; the attachment the splitter saw inside a text part is offered again as a part of its own)`,
    '',
    `${runs} runs of ${rounds} rounds; each run's figure is the median of its rounds, the figures above and in the first table are the medians of the runs. Load is the 1-minute load average at the start and end of each run (2 cores, shared).`,
    '',
    table(['path', 'MB/s', 'ms per message', 'parts offered'], rows),
    '',
    table(
      ['run', 'load average', 'engine / Splitter+decoding (well-formed)', 'ambiguous / well-formed (engine)'],
      runRows,
    ),
  ].join('\n');
  console.log(md);
  await writeFile(new URL('../results/core-readings.md', import.meta.url), `${md}\n`);
}

await main();
