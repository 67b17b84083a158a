/**
 * DNS lists: lookups per second of our client (cold cache, then warm) beside a bare Node
 * resolver loop with the same concurrency and beside `dig` in batch mode, and the latency of
 * one message through the engine with the rbl plugin (client IP, HELO, MAIL FROM, From and
 * 10 link domains against ZEN and DBL style lists), cold and warm, beside the same lookups
 * done in parallel with a bare resolver. Starts its own rbldnsd on loopback.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/rbl-lookups.ts [rounds]
 */
import { execFile } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Plugin } from '@mef/core';
import { createEngine } from '@mef/core/hosts';
import { buildMessage } from '@mef/core/testing';
import { DnsListClient, rbl, spamhausDbl, spamhausZen } from '@mef/plugin-rbl';
import { startRbldnsd } from '@mef/test-servers';
import { machineLine, median, table } from './machine.js';

const run = promisify(execFile);
const rounds = Math.min(20, Number(process.argv[2] ?? 5)); // the name tags below stay within one octet
const N = 2000; // lookups per throughput round
const CONCURRENCY = 32;
const MESSAGES = 50; // messages per latency round

// 20,000 listed IPs in 10.x and 10,000 listed domains: half of the queries below hit.
const ips: string[] = [];
for (let i = 0; i < 20_000; i++) ips.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const listedDomains = Array.from({ length: 10_000 }, (_, i) => `listed${i}.com`);
const server = await startRbldnsd([
  { zone: 'zen.bench', type: 'ip4set', content: `:127.0.0.2:Listed $\n127.0.0.2\n${ips.join('\n')}\n` },
  {
    zone: 'dbl.bench',
    type: 'dnset',
    content: `:127.0.1.2:Listed\ntest\ndbltest.com\n${listedDomains.join('\n')}\n`,
  },
]);
const servers = [`127.0.0.1:${server.port}`];

/** Query names for round r: never seen before by any cache (r keeps rounds apart). */
function names(r: number, tag: string): string[] {
  return Array.from({ length: N }, (_, i) => {
    // Listed names cycle through the 20,000 listed IPs; every round uses a fresh client.
    const n = (r * N + i) % 20_000;
    // even: listed (10.x), odd: unlisted (11.x)
    return i % 2 === 0
      ? `${n & 255}.${(n >> 8) & 255}.${(n >> 16) & 255}.10.zen.bench`
      : `${n & 255}.${(n >> 8) & 255}.${tag}.11.zen.bench`;
  });
}

async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const x = items[next++]!;
        await fn(x);
      }
    }),
  );
}

async function bareNode(list: string[], ttl = false): Promise<number> {
  const r = new dns.Resolver({ timeout: 1000, tries: 2 });
  r.setServers(servers);
  const t0 = performance.now();
  await pool(list, CONCURRENCY, (n) =>
    r.resolve4(n, { ttl }).catch((e: { code?: string }) => {
      if (e.code !== 'ENOTFOUND' && e.code !== 'ENODATA') throw e;
    }),
  );
  return performance.now() - t0;
}

async function ours(client: DnsListClient, list: string[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(list.map((n) => client.lookupA(n)));
  return performance.now() - t0;
}

async function dig(list: string[]): Promise<number> {
  const file = join(server.dir, 'dig-batch.txt');
  await writeFile(file, list.map((n) => `${n} A`).join('\n'));
  const t0 = performance.now();
  const { stdout } = await run(
    'dig',
    ['-p', String(server.port), '@127.0.0.1', '+short', '+tries=1', '+time=1', '-f', file],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const ms = performance.now() - t0;
  const answers = stdout.split('\n').filter((l) => l === '127.0.0.2').length;
  if (answers !== list.length / 2)
    throw new Error(`dig: ${answers} answers for ${list.length / 2} listed names`);
  return ms;
}

async function bareUnbounded(list: string[]): Promise<number> {
  const r = new dns.Resolver({ timeout: 1000, tries: 2 });
  r.setServers(servers);
  const t0 = performance.now();
  await Promise.all(list.map((n) => r.resolve4(n).catch(() => [])));
  return performance.now() - t0;
}

// One warm-up round (JIT, rbldnsd's first answers), not counted.
await bareNode(names(99, '250'));
await ours(new DnsListClient({ servers, concurrency: CONCURRENCY }), names(98, '251'));

const tp = {
  node: [] as number[],
  cold: [] as number[],
  warm: [] as number[],
  dig: [] as number[],
  all: [] as number[],
  ttl: [] as number[],
  pool: [] as number[],
};
for (let r = 0; r < rounds; r++) {
  // Each measurement gets names no cache has seen; the order rotates from round to round so
  // that no client always runs first (or right after dig's process start).
  const steps: (() => Promise<void>)[] = [
    async () => {
      tp.node.push((N / (await bareNode(names(r, String(10 + r))))) * 1000);
    },
    async () => {
      tp.ttl.push((N / (await bareNode(names(r + 4 * rounds, String(210 + r)), true))) * 1000);
    },
    async () => {
      const pooled = new DnsListClient({ servers, concurrency: CONCURRENCY });
      const t0 = performance.now();
      await pool(names(r + 5 * rounds, String(230 + (r % 20))), CONCURRENCY, (n) => pooled.lookupA(n));
      tp.pool.push((N / (performance.now() - t0)) * 1000);
    },
    async () => {
      const client = new DnsListClient({ servers, concurrency: CONCURRENCY });
      const coldList = names(r + rounds, String(60 + r));
      tp.cold.push((N / (await ours(client, coldList))) * 1000);
      if (client.stats.queries !== N || client.stats.timeouts)
        throw new Error(`cold round: ${JSON.stringify(client.stats)}`);
      tp.warm.push((N / (await ours(client, coldList))) * 1000);
      if (client.stats.queries !== N) throw new Error('warm round sent queries');
    },
    async () => {
      // dig runs sequentially in one process: 500 names keep the run short
      tp.dig.push((500 / (await dig(names(r + 2 * rounds, String(110 + r)).slice(0, 500)))) * 1000);
    },
  ];
  for (let i = 0; i < steps.length; i++) await steps[(i + r) % steps.length]!();
  // The unbounded flood goes last, then a pause: its late retries must not slow the next round.
  tp.all.push((N / (await bareUnbounded(names(r + 3 * rounds, String(160 + r))))) * 1000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

// Per-message latency. Each message asks: client IP (ZEN), HELO, MAIL FROM and From (DBL,
// full name and registrable domain), 10 link domains (DBL): 15 lookups, 5 of them listed.
function message(m: number): {
  eml: Buffer;
  env: { clientAddress: string; helo: string; mailFrom: string };
  lookups: string[];
} {
  const links = Array.from({ length: 10 }, (_, i) =>
    i % 2 ? `listed${(m * 10 + i) % 10_000}.com` : `clean${m}-${i}.com`,
  );
  const eml = buildMessage({
    from: `news@sender${m}.com`,
    text: links.map((d) => `http://www.${d}/x`).join('\n'),
    html: `<p>${links.map((d) => `<a href="https://${d}/y">x</a>`).join(' ')}</p>`,
  });
  const clientAddress = `10.0.${(m >> 8) & 255}.${m & 255}`;
  const env = { clientAddress, helo: `mail.helo${m}.com`, mailFrom: `bounce@mail.sender${m}.com` };
  const lookups = [
    `${clientAddress.split('.').reverse().join('.')}.zen.bench`,
    `mail.helo${m}.com.dbl.bench`,
    `helo${m}.com.dbl.bench`,
    `mail.sender${m}.com.dbl.bench`,
    `sender${m}.com.dbl.bench`,
    ...links.map((d) => `${d}.dbl.bench`),
  ];
  return { eml, env, lookups };
}

async function engineLatency(offset: number): Promise<{ cold: number[]; warm: number[] }> {
  const engine = createEngine({ stageTimeout: 5000 }).use(
    rbl({
      servers,
      lists: [spamhausZen({ zone: 'zen.bench', txt: false }), spamhausDbl({ zone: 'dbl.bench' })],
      probeInterval: 0,
    }),
  );
  await engine.start();
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const { eml, env } = message(offset + i);
    let t0 = performance.now();
    await engine.scan(eml, env);
    cold.push(performance.now() - t0);
    t0 = performance.now();
    await engine.scan(eml, env);
    warm.push(performance.now() - t0);
  }
  await engine.stop();
  return { cold, warm };
}

async function bareLatency(offset: number): Promise<number[]> {
  const r = new dns.Resolver({ timeout: 1000, tries: 2 });
  r.setServers(servers);
  const out: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const { lookups } = message(offset + i);
    const t0 = performance.now();
    await Promise.all(lookups.map((n) => r.resolve4(n).catch(() => [])));
    out.push(performance.now() - t0);
  }
  return out;
}

/** A stage that reads the text parts as rbl does, with no lookups: the message pass it costs. */
const partsReader: Plugin = {
  name: 'parts-reader',
  async message(ctx) {
    const done: Promise<void>[] = [];
    ctx.message.parts({ contentType: ['text/plain', 'text/html'], maxBytes: 1024 * 1024 }, (part) => {
      const p = (async () => {
        for await (const _ of part.content);
      })();
      done.push(p);
      return p;
    });
    await ctx.message.ended();
    await Promise.all(done);
  },
};

/** An engine with no plugin, or with the parts reader: what the message pass alone costs. */
async function emptyEngine(offset: number, withReader = false): Promise<number[]> {
  const engine = createEngine();
  if (withReader) engine.use(partsReader);
  await engine.start();
  const out: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const { eml, env } = message(offset + i);
    const t0 = performance.now();
    await engine.scan(eml, env);
    out.push(performance.now() - t0);
  }
  await engine.stop();
  return out;
}

const lat = {
  cold: [] as number[],
  warm: [] as number[],
  bare: [] as number[],
  empty: [] as number[],
  reader: [] as number[],
};
for (let r = 0; r < rounds; r++) {
  const e = await engineLatency(10_000 + r * MESSAGES);
  lat.cold.push(median(e.cold));
  lat.warm.push(median(e.warm));
  lat.bare.push(median(await bareLatency(20_000 + r * MESSAGES)));
  lat.empty.push(median(await emptyEngine(30_000 + r * MESSAGES)));
  lat.reader.push(median(await emptyEngine(40_000 + r * MESSAGES, true)));
}
await server.stop();

const f = (x: number) => x.toFixed(0);
const ms = (x: number) => x.toFixed(2);
const m = {
  node: median(tp.node),
  cold: median(tp.cold),
  warm: median(tp.warm),
  dig: median(tp.dig),
  all: median(tp.all),
  ttl: median(tp.ttl),
  pool: median(tp.pool),
};
const out: string[] = [];
out.push(`## DNS lists (rbldnsd on loopback), medians of ${rounds} rounds\n`);
out.push(`Lookups per second, ${N} distinct names per round (half listed), concurrency ${CONCURRENCY}:\n`);
out.push(
  table(
    ['client', 'lookups/s', 'vs bare Node resolver'],
    [
      ['bare Node dns.Resolver loop (baseline)', f(m.node), '1.00'],
      [
        'bare Node dns.Resolver loop, resolve4 with {ttl: true} (what a TTL cache needs)',
        f(m.ttl),
        (m.ttl / m.node).toFixed(2),
      ],
      ['DnsListClient, cold cache, 32 callers like the baseline', f(m.pool), (m.pool / m.node).toFixed(2)],
      [
        'DnsListClient, cold cache, all 2,000 asked at once (its limiter queues)',
        f(m.cold),
        (m.cold / m.node).toFixed(2),
      ],
      ['DnsListClient, warm cache, all at once', f(m.warm), (m.warm / m.node).toFixed(2)],
      [
        'bare Node dns.Resolver, all 2,000 at once (UDP loss, retries)',
        f(m.all),
        (m.all / m.node).toFixed(2),
      ],
      ['dig -f batch (sequential, 500 names)', f(m.dig), (m.dig / m.node).toFixed(2)],
    ],
  ),
);
const l = {
  cold: median(lat.cold),
  warm: median(lat.warm),
  bare: median(lat.bare),
  empty: median(lat.empty),
  reader: median(lat.reader),
};
out.push(`\nPer-message latency (ms, median of ${MESSAGES} messages per round; 15 lookups, 5 listed):\n`);
out.push(
  table(
    ['run', 'ms per message', 'vs bare parallel lookups'],
    [
      ['bare Node resolver, the 15 lookups in parallel (baseline)', ms(l.bare), '1.00'],
      ['engine, no plugin (message pass only)', ms(l.empty), (l.empty / l.bare).toFixed(2)],
      ['engine, a stage reading the text parts (no lookups)', ms(l.reader), (l.reader / l.bare).toFixed(2)],
      ['engine + rbl, cold cache', ms(l.cold), (l.cold / l.bare).toFixed(2)],
      ['engine + rbl, warm cache', ms(l.warm), (l.warm / l.bare).toFixed(2)],
    ],
  ),
);
out.push(`\n${machineLine()}`);

const page = out.join('\n').replace(/\n{3,}/g, '\n\n');
console.log(page);
await writeFile(
  new URL('../results/rbl.md', import.meta.url),
  `${page.trim()}\n\nCommand: \`pnpm bench rbl\`\n`,
);
