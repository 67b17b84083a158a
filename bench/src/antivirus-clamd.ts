/**
 * ClamAV: our clamd client beside `clamdscan --stream` on the same never-seen files (clamd
 * caches the hashes of clean content, so every round and every client gets fresh bytes), the
 * cost of keeping a clamd connection (IDSESSION) against a new connection per scan, and
 * messages per second through the engine with the clamav plugin on 1,000 generated mixed
 * messages in each scan mode (raw, parts, both). Starts its own clamd on loopback.
 *
 * Run: cd bench && npx tsx --conditions=@mef/source src/antivirus-clamd.ts [rounds]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine, type Engine } from '@mef/core/hosts';
import { ClamdClient, clamav, type ScanMode } from '@mef/plugin-antivirus';
import { requireBinary, startClamd } from '@mef/test-servers';
import { makeZip } from '@mef/test-servers/zip';
import { machineLine, median, table } from './machine.js';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 7);
const out: string[] = [];
/** Prints a block and keeps it for bench/results/antivirus.md. */
function say(block: string): void {
  console.log(block);
  out.push(block);
}
const MB = 1024 * 1024;

/** The files of one round, in groups: 20 x 100 KB, 10 x 1 MB, 3 x 10 MB (about 42 MB). */
const GROUPS: readonly number[][] = [Array(20).fill(100 * 1024), Array(10).fill(MB), Array(3).fill(10 * MB)];

/** Fresh random files (never seen by clamd's cache). */
async function freshFiles(
  dir: string,
  tag: string,
  sizes: readonly number[] = GROUPS.flat(),
): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for (const [i, size] of sizes.entries()) {
    const f = join(dir, `${tag}-${i}.bin`);
    await writeFile(f, randomBytes(size));
    files.push(f);
    bytes += size;
  }
  return { files, bytes };
}

async function ours(client: ClamdClient, files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of files) {
    const r = await client.scan(createReadStream(f, { highWaterMark: 64 * 1024 }));
    if (r.kind !== 'clean') throw new Error(`unexpected reply ${r.raw}`);
  }
  return performance.now() - t0;
}

async function clamdscan(config: string, files: string[]): Promise<number> {
  const t0 = performance.now();
  const { stdout } = await run(
    requireBinary('clamdscan', 'clamdscan'),
    [`--config-file=${config}`, '--stream', '--no-summary', ...files],
    {
      maxBuffer: 16 * MB,
    },
  );
  const ms = performance.now() - t0;
  const ok = stdout.split('\n').filter((l) => l.endsWith(': OK')).length;
  if (ok !== files.length) throw new Error(`clamdscan: ${ok}/${files.length} OK\n${stdout}`);
  return ms;
}

/** A minimal IDSESSION client (bench only): many INSTREAMs on one connection. */
async function idSession(port: number, payloads: Buffer[]): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => socket.once('connect', r));
  socket.setNoDelay(true);
  socket.write('zIDSESSION\0');
  let buf = '';
  const waiters: Array<(s: string) => void> = [];
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    for (let i = buf.indexOf('\0'); i !== -1; i = buf.indexOf('\0')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiters.shift()?.(line);
    }
  });
  const t0 = performance.now();
  for (const p of payloads) {
    const reply = new Promise<string>((r) => waiters.push(r));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(p.length);
    socket.write(Buffer.concat([Buffer.from('zINSTREAM\0'), head, p, Buffer.alloc(4)]));
    const line = await reply;
    if (!line.endsWith('stream: OK')) throw new Error(`IDSESSION reply ${line}`);
  }
  const ms = performance.now() - t0;
  socket.end('zEND\0');
  return ms;
}

const words =
  'the invoice report meeting project budget quarter review delivery schedule update team customer'.split(
    ' ',
  );
function text(n: number): string {
  let s = '';
  while (s.length < n)
    s += `${words[Math.floor(Math.random() * words.length)]} ${Math.random() > 0.9 ? '\r\n' : ''}`;
  return s;
}
const b64 = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
const eicarString = () =>
  ['X5O!P%@AP[4', '\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-TEST-FILE!', '$H+H*'].join('');

/** 1,000 mixed messages: plain, alternative, documents, zips, and 5% EICAR; fresh random content. */
function corpus(n: number): { messages: Buffer[]; infected: number; bytes: number } {
  const messages: Buffer[] = [];
  let infected = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = i % 20;
    const id = randomBytes(8).toString('hex');
    const head = `From: a${i}@example.test\r\nTo: b@example.test\r\nSubject: msg ${id}\r\nMessage-ID: <${id}@example.test>\r\nMIME-Version: 1.0\r\n`;
    let eml: string;
    if (r < 8) {
      eml = `${head}Content-Type: text/plain; charset=utf-8\r\n\r\n${id}\r\n${text(1000 + Math.random() * 4000)}\r\n`;
    } else if (r < 12) {
      const t = text(2000);
      eml = `${head}Content-Type: multipart/alternative; boundary="alt${id}"\r\n\r\n--alt${id}\r\nContent-Type: text/plain\r\n\r\n${id} ${t}\r\n--alt${id}\r\nContent-Type: text/html\r\n\r\n<html><body><p>${id} ${t}</p></body></html>\r\n--alt${id}--\r\n`;
    } else {
      let name: string;
      let type: string;
      let data: Buffer;
      if (r < 17) {
        name = `report-${id}.pdf`;
        type = 'application/pdf';
        data = Buffer.concat([
          Buffer.from(`%PDF-1.7\n% ${id}\n`),
          randomBytes(20_000 + Math.floor(Math.random() * 180_000)),
        ]);
      } else if (r < 19) {
        name = `files-${id}.zip`;
        type = 'application/zip';
        data = makeZip([
          { name: 'a.txt', data: Buffer.from(text(5000) + id) },
          { name: 'b.bin', data: randomBytes(30_000), method: 'store' },
        ]);
      } else {
        name = `note-${id}.txt`;
        type = 'text/plain';
        data = Buffer.from(eicarString(), 'latin1');
        infected++;
      }
      eml = `${head}Content-Type: multipart/mixed; boundary="mix${id}"\r\n\r\n--mix${id}\r\nContent-Type: text/plain\r\n\r\n${id} ${text(800)}\r\n--mix${id}\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(data)}\r\n--mix${id}--\r\n`;
    }
    const buf = Buffer.from(eml, 'latin1');
    bytes += buf.length;
    messages.push(buf);
  }
  return { messages, infected, bytes };
}

/** Scans `messages` through `engine`, `concurrency` at a time. */
async function engineRun(engine: Engine, messages: Buffer[], concurrency: number) {
  let next = 0;
  let rejected = 0;
  let other = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const m = messages[next++]!;
        const v = await engine.scan(m, { mailFrom: 'a@example.test', recipients: ['b@example.test'] });
        if (v.disposition === 'reject') rejected++;
        else if (v.disposition !== 'accept') other++;
      }
    }),
  );
  return { ms: performance.now() - t0, rejected, other };
}

async function main(): Promise<void> {
  requireBinary('clamdscan', 'clamdscan');
  say(
    `## Antivirus (clamd)\n\nMachine: ${machineLine()}\n\nCommand: \`cd bench && npx tsx --conditions=@mef/source src/antivirus-clamd.ts\` (or \`pnpm bench antivirus\`)\n`,
  );
  const server = await startClamd({ maxThreads: 4 });
  const dir = await mkdtemp(join(tmpdir(), 'mef-av-bench-'));
  try {
    const client = new ClamdClient({ hosts: [{ host: '127.0.0.1', port: server.port }] });
    // Warm clamd (its first scan loads engine state) on throw-away content.
    const warm = await freshFiles(dir, 'warm');
    await ours(client, warm.files);
    await clamdscan(server.configFile, warm.files);

    const oursMBs: number[] = [];
    const refMBs: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Each size group runs ours and clamdscan back to back (order alternating), so a change
      // of load on the machine meets both clients alike.
      let oursMs = 0;
      let refMs = 0;
      let bytes = 0;
      for (const [g, sizes] of GROUPS.entries()) {
        const a = await freshFiles(dir, `r${r}g${g}a`, sizes);
        const b = await freshFiles(dir, `r${r}g${g}b`, sizes);
        if ((r + g) % 2 === 0) {
          oursMs += await ours(client, a.files);
          refMs += await clamdscan(server.configFile, b.files);
        } else {
          refMs += await clamdscan(server.configFile, a.files);
          oursMs += await ours(client, b.files);
        }
        bytes += a.bytes;
        await Promise.all([...a.files, ...b.files].map((f) => rm(f)));
      }
      oursMBs.push(bytes / MB / (oursMs / 1000));
      refMBs.push(bytes / MB / (refMs / 1000));
      ratios.push(refMs / oursMs);
    }
    say(`### Scan throughput, 33 fresh files (about 42 MB) per client per round, ${rounds} rounds\n`);
    say(
      table(
        ['client', 'median MB/s', 'ratio (ours / clamdscan), median of rounds; target >= 0.95'],
        [
          [
            '@mef/plugin-antivirus ClamdClient.scan(stream)',
            median(oursMBs).toFixed(1),
            `${median(ratios).toFixed(3)} (rounds: ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)})`,
          ],
          ['clamdscan --stream (one process, same files)', median(refMBs).toFixed(1), '1.000'],
        ],
      ),
    );

    // Keep-alive: 500 small fresh payloads, a new connection each vs the kept IDSESSION
    // connection of the client (its default), vs a bare IDSESSION loop as the floor.
    const small = () => Array.from({ length: 500 }, () => randomBytes(2048));
    const perConn = new ClamdClient({ hosts: [{ host: '127.0.0.1', port: server.port }], keepAlive: false });
    const fresh: number[] = [];
    const kept: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const p1 = small();
      let t0 = performance.now();
      for (const p of p1) await perConn.scan(p);
      fresh.push(performance.now() - t0);
      const p2 = small();
      t0 = performance.now();
      for (const p of p2) await client.scan(p);
      kept.push(performance.now() - t0);
      bare.push(await idSession(server.port, small()));
    }
    await client.close();
    say('\n### Connection per scan vs keep-alive (IDSESSION), 500 fresh 2 KB payloads\n');
    say(
      table(
        ['how', 'median ms per scan', 'ratio'],
        [
          [
            'ClamdClient keepAlive: false (a connection per INSTREAM)',
            (median(fresh) / 500).toFixed(3),
            '1.000',
          ],
          [
            'ClamdClient keepAlive: true (default)',
            (median(kept) / 500).toFixed(3),
            (median(kept) / median(fresh)).toFixed(3),
          ],
          [
            'bare IDSESSION loop (floor)',
            (median(bare) / 500).toFixed(3),
            (median(bare) / median(fresh)).toFixed(3),
          ],
        ],
      ),
    );

    // Engine: messages per second on 1,000 mixed messages, fresh per mode and round.
    const n = 1000;
    const rows: (string | number)[][] = [];
    const perMode: Record<string, number[]> = {};
    let info = '';
    const engineRounds = Math.max(1, Math.min(rounds, 3));
    const runs: [string, ScanMode | 'none', boolean][] = [
      ['engine alone (no plugin)', 'none', true],
      ['clamav mode raw', 'raw', true],
      ['clamav mode parts', 'parts', true],
      ['clamav mode both', 'both', true],
      ['clamav mode raw, no keep-alive', 'raw', false],
      ['clamav mode both, no keep-alive', 'both', false],
    ];
    const engines = await Promise.all(
      runs.map(async ([, mode, keepAlive]) => {
        const engine = createEngine();
        if (mode !== 'none') {
          engine.use(
            clamav({ hosts: [`127.0.0.1:${server.port}`], mode, scannedHeader: 'bench', keepAlive }),
          );
        }
        await engine.start();
        return engine;
      }),
    );
    // Each run scans its own fresh corpus in slices of 100, the runs taking turns slice by
    // slice, so a change of load on the machine meets every run alike.
    const slice = 100;
    for (let r = 0; r < engineRounds; r++) {
      const corpora = runs.map(() => corpus(n));
      const ms = runs.map(() => 0);
      const rejected = runs.map(() => 0);
      const other = runs.map(() => 0);
      for (let from = 0; from < n; from += slice) {
        for (const [i] of runs.entries()) {
          const res = await engineRun(engines[i]!, corpora[i]!.messages.slice(from, from + slice), 4);
          ms[i]! += res.ms;
          rejected[i]! += res.rejected;
          other[i]! += res.other;
        }
      }
      for (const [i, [label, mode]] of runs.entries()) {
        const c = corpora[i]!;
        info = `${n} messages, ${(c.bytes / MB).toFixed(1)} MB, ${c.infected} with EICAR`;
        if (mode !== 'none' && (rejected[i] !== c.infected || other[i] !== 0)) {
          throw new Error(`${label}: ${rejected[i]} rejected (want ${c.infected}), ${other[i]} other`);
        }
        const list = perMode[label] ?? [];
        list.push(n / (ms[i]! / 1000));
        perMode[label] = list;
      }
    }
    await Promise.all(engines.map((e) => e.stop()));
    const raw = median(perMode['clamav mode raw']!);
    for (const [label] of runs) {
      const m = median(perMode[label]!);
      rows.push([label, m.toFixed(0), (m / raw).toFixed(3)]);
    }
    say(`\n### Engine with clamd, ${info}, 4 at a time, ${engineRounds} rounds\n`);
    say(table(['run', 'median messages/s', 'ratio to raw'], rows));
  } finally {
    await rm(dir, { recursive: true, force: true });
    await server.stop();
  }
  await writeFile(new URL('../results/antivirus.md', import.meta.url), `${out.join('\n')}\n`);
}

await main();
