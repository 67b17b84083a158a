/**
 * A worker thread of the opt-in pool (see `threads.ts`): its own engine from the plugin's
 * `config/mef.yaml`, one engine transaction per message the main thread streams to it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildEngine, resolveConfig, validateConfig } from '@mef/cli';
import type { Verdict } from '@mef/core';
import type { Connection, Transaction } from '@mef/core/hosts';
import type { FromThread, ThreadEnvelope, ToThread } from './threads.js';

const { engine } = buildEngine(
  resolveConfig(validateConfig((workerData as { config: unknown }).config, 'config/mef.yaml'), {}),
);
const started = engine.start();

interface Scan {
  /** Opened once the engine has started. */
  conn?: Connection;
  tx?: Transaction;
  /** The envelope's refusal, if any: the message is then only drained. */
  refused?: FromThread;
  /** The work on this message so far, in order. */
  chain: Promise<void>;
  failed?: Error;
}

const scans = new Map<number, Scan>();

function post(m: FromThread): void {
  parentPort?.postMessage(m);
}

async function begin(id: number, e: ThreadEnvelope, scan: Scan): Promise<void> {
  await started;
  const conn = engine.connection(e.connection);
  scan.conn = conn;
  const refuse = (verdict: Verdict) => {
    scan.refused = { t: 'done', id, verdict, refused: true, direction: e.connection.direction };
  };
  const c = await conn.connect();
  if (c.disposition !== 'accept') return refuse(c);
  if (e.helo) {
    const h = await conn.helo(e.helo);
    if (h.disposition !== 'accept') return refuse(h);
  }
  if (e.user !== undefined) conn.authenticate(e.user);
  const tx = conn.transaction();
  scan.tx = tx;
  const m = await tx.mailFrom(e.mailFrom);
  if (m.disposition !== 'accept') return refuse(m);
  let last: Verdict | undefined;
  for (const r of e.rcptTo) {
    const v = await tx.rcptTo(r);
    if (v.disposition !== 'accept') last = v;
  }
  if (tx.recipients.length === 0 && last) return refuse(last);
  tx.begin();
}

async function end(id: number, scan: Scan): Promise<void> {
  const { tx, conn } = scan;
  try {
    if (scan.refused) return post(scan.refused);
    if (!tx) throw new Error('no transaction');
    if (scan.failed) await tx.fail(scan.failed);
    const v = await tx.end();
    const user = tx.context.user;
    post({
      t: 'done',
      id,
      verdict: v,
      refused: false,
      direction: tx.context.direction,
      ...(user ? { user } : {}),
    });
  } finally {
    await tx?.dispose();
    await conn?.close();
  }
}

parentPort?.on('message', (m: ToThread) => {
  if (m.t === 'begin') {
    const scan: Scan = { chain: Promise.resolve() };
    scan.chain = begin(m.id, m.envelope, scan);
    scans.set(m.id, scan);
    return;
  }
  const scan = scans.get(m.id);
  if (!scan) return;
  if (m.t === 'chunk') {
    scan.chain = scan.chain.then(async () => {
      if (!scan.refused && scan.tx && !scan.failed) await scan.tx.write(Buffer.from(m.data.buffer));
    });
    return;
  }
  scans.delete(m.id);
  if (m.error !== undefined) scan.failed ??= new Error(m.error);
  scan.chain
    .then(() => end(m.id, scan))
    .catch((err: unknown) => {
      post({ t: 'failed', id: m.id, message: (err as Error).message });
      // What end() did not reach: the transaction and connection of a message that failed early.
      void Promise.resolve(scan.tx?.dispose())
        .then(() => scan.conn?.close())
        .catch(() => {});
    });
});
