/**
 * Data path of the core: an unmodified 1 MB and 100 MB message through the engine, beside a
 * plain pass-through, mailsplit's Splitter alone, and Splitter plus decoding of every part
 * (the baseline the engine's part view must stay within 10% of). Prints MB/s medians and
 * ratios, peak memory growth for the engine, and the machine line; writes
 * bench/results/core.md for docs/benchmarks.md.
 *
 * Run: pnpm --filter @mef/bench exec tsx --conditions=@mef/source src/core-throughput.ts [rounds]
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Plugin } from '@mef/core';
import { createEngine, type Engine } from '@mef/core/hosts';
import { generateLargeMessage } from '@mef/core/testing';
import { Joiner, Splitter } from '@zone-eu/mailsplit';
import { machineLine, median, table, time } from './machine.js';
import { splitterDecode } from './mailsplit.lib.js';

const rounds = Number(process.argv[2] ?? 5);
const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function passThrough(file: string): Promise<void> {
  await pipeline(createReadStream(file), new PassThrough(), sink());
}

async function splitterOnly(file: string): Promise<void> {
  const splitter = new Splitter();
  const drain = new Writable({ objectMode: true, write: (_o, _e, cb) => cb() });
  await pipeline(createReadStream(file), splitter as unknown as NodeJS.ReadWriteStream, drain);
}

async function splitterJoiner(file: string): Promise<void> {
  await pipeline(
    createReadStream(file),
    new Splitter() as unknown as NodeJS.ReadWriteStream,
    new Joiner() as unknown as NodeJS.ReadWriteStream,
    sink(),
  );
}

function partsStage(): Plugin {
  return {
    name: 'noop-parts',
    message(ctx) {
      // The cheapest honest reader: let the decoded bytes flow and wait for the end.
      ctx.message.parts({}, async (part) => {
        part.content.resume();
        await once(part.content, 'end');
      });
    },
  };
}

function headersTextStage(): Plugin {
  return {
    name: 'noop-headers-text',
    message(ctx) {
      const text = ctx.message.text();
      const headers = ctx.message.headers();
      return Promise.all([text, headers]).then(() => undefined);
    },
  };
}

// A host builds its engine once; the timed part is one transaction.
const engines = new Map<() => Plugin, Engine>();
async function engineRun(file: string, plugin: () => Plugin, sampler?: () => void): Promise<void> {
  let engine = engines.get(plugin);
  if (!engine) {
    engine = createEngine({ limits: { maxMessageBytes: 512 * 1024 * 1024 } }).use(plugin());
    await engine.start();
    engines.set(plugin, engine);
  }
  const timer = sampler ? setInterval(sampler, 5) : undefined;
  const v = await engine.scan(createReadStream(file), { recipients: ['a@example.test'] });
  if (timer) clearInterval(timer);
  if (v.disposition !== 'accept') throw new Error(`unexpected verdict ${v.disposition}`);
}

async function makeFile(dir: string, bytes: number): Promise<string> {
  const path = join(dir, `msg-${bytes}.eml`);
  await pipeline(generateLargeMessage(bytes), createWriteStream(path));
  return path;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mef-bench-'));
  const results: string[] = [];
  const summary: string[] = [];
  try {
    for (const decoded of [1024 * 1024, 100 * 1024 * 1024]) {
      const file = await makeFile(dir, decoded);
      const size = (await stat(file)).size;
      const variants: [string, () => Promise<void>][] = [
        ['plain pass-through', () => passThrough(file)],
        ['mailsplit Splitter alone', () => splitterOnly(file)],
        ['Splitter piped to Joiner', () => splitterJoiner(file)],
        ['Splitter + decoding every part (baseline)', () => splitterDecode(createReadStream(file))],
        ['engine, no-op stage asking for all parts', () => engineRun(file, partsStage)],
        ['engine, stage asking for headers and text only', () => engineRun(file, headersTextStage)],
      ];
      const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
      const n = decoded > 10 * 1024 * 1024 ? rounds : rounds * 12;
      for (let r = 0; r < n; r++) {
        for (const [name, fn] of variants) times.get(name)!.push(await time(fn));
      }
      const mbps = (name: string) => size / 1e6 / median(times.get(name)!);
      const base = mbps('Splitter + decoding every part (baseline)');
      const split = mbps('mailsplit Splitter alone');
      const rows = variants.map(([name]) => [name, mbps(name).toFixed(0), (mbps(name) / base).toFixed(2)]);
      const label = `${(size / 1e6).toFixed(1)} MB message (${decoded / 1048576} MiB attachment, base64)`;
      results.push(
        `### ${label}\n\nMedian of ${n} rounds.\n\n${table(['path', 'MB/s', 'ratio to Splitter + decoding'], rows)}`,
      );
      const partsRatio = mbps('engine, no-op stage asking for all parts') / base;
      const textRatio = mbps('engine, stage asking for headers and text only') / split;
      summary.push(
        `${label}: engine with parts at ${partsRatio.toFixed(2)} x Splitter+decoding (target >= 0.90: ${partsRatio >= 0.9 ? 'met' : 'NOT met'}); headers+text only at ${textRatio.toFixed(2)} x Splitter alone`,
      );

      if (decoded > 10 * 1024 * 1024) {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const used = () => {
          const m = process.memoryUsage();
          return m.heapUsed + m.arrayBuffers;
        };
        const before = used();
        let peak = before;
        await engineRun(file, partsStage, () => {
          peak = Math.max(peak, used());
        });
        const growth = (peak - before) / 1048576;
        summary.push(
          `peak memory growth (heap + buffers) while the engine passes the ${label}: ${growth.toFixed(1)} MiB (target <= 64 MiB: ${growth <= 64 ? 'met' : 'NOT met'})`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const md = [
    '## Core data path',
    '',
    `Machine: ${machineLine()}`,
    '',
    'Command: `pnpm bench core` (or `pnpm --filter @mef/bench run bench:core`)',
    '',
    ...summary.map((s) => `- ${s}`),
    '',
    ...results.flatMap((r) => [r, '']),
  ].join('\n');
  console.log(md);
  await writeFile(new URL('../results/core.md', import.meta.url), `${md}\n`);
}

await main();
