/**
 * The thread side of `ThreadPool`: a host's worker file builds its engine and calls
 * `serveThread(engine)`; each message the host streams runs through one engine transaction.
 */
import { parentPort } from 'node:worker_threads';
import type { Connection } from '../engine/connection.js';
import type { Engine } from '../engine/engine.js';
import type { Transaction } from '../engine/transaction.js';
import type { Verdict } from '../verdict.js';
import type { FromThread, ThreadEnvelope, ToThread } from './threads.js';

interface Scan {
  conn?: Connection;
  tx?: Transaction;
  /** The envelope's refusal, if any: the message is then only drained. */
  refused?: FromThread;
  /** The work on this message so far, in order. */
  chain: Promise<void>;
  failed?: Error;
}

const addressOf = (a: ThreadEnvelope['mailFrom']) => (typeof a === 'string' ? a : a.address);
const paramsOf = (a: ThreadEnvelope['mailFrom']) => (typeof a === 'string' ? {} : { ...a.params });

async function begin(engine: Engine, id: number, e: ThreadEnvelope, scan: Scan): Promise<void> {
  await engine.start();
  const conn = engine.connection(e.connection);
  scan.conn = conn;
  const direction = e.connection.direction ?? 'inbound';
  const refuse = (verdict: Verdict) => {
    scan.refused = { t: 'done', id, verdict, refused: true, direction };
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
  const m = await tx.mailFrom(addressOf(e.mailFrom), paramsOf(e.mailFrom));
  if (m.disposition !== 'accept') return refuse(m);
  let last: Verdict | undefined;
  for (const r of e.rcptTo) {
    const v = await tx.rcptTo(addressOf(r), paramsOf(r));
    if (v.disposition !== 'accept') last = v;
  }
  if (tx.recipients.length === 0 && last) return refuse(last);
  tx.begin();
}

async function finish(id: number, scan: Scan, post: (m: FromThread) => void): Promise<void> {
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

/**
 * Serves `ThreadPool` messages in this worker thread with `engine` (started at the first
 * message). Does nothing outside a worker thread.
 */
export function serveThread(engine: Engine): void {
  const port = parentPort;
  if (!port) return;
  const post = (m: FromThread) => port.postMessage(m);
  // Set up before the first message; a failure fails each message (the host defers it).
  engine.start().catch(() => {});
  const scans = new Map<number, Scan>();
  port.on('message', (m: ToThread) => {
    let scan = scans.get(m.id);
    if (m.envelope) {
      const s: Scan = { chain: Promise.resolve() };
      s.chain = begin(engine, m.id, m.envelope, s);
      scans.set(m.id, s);
      scan = s;
    }
    if (!scan) return;
    const s = scan;
    for (const data of m.chunks) {
      s.chain = s.chain.then(async () => {
        if (!s.refused && s.tx && !s.failed)
          await s.tx.write(Buffer.from(data.buffer, data.byteOffset, data.length));
      });
    }
    if (!m.end) return;
    scans.delete(m.id);
    if (m.error !== undefined) s.failed ??= new Error(m.error);
    s.chain
      .then(() => finish(m.id, s, post))
      .catch((err: unknown) => {
        post({ t: 'failed', id: m.id, message: (err as Error).message });
        // What finish() did not reach: the transaction and connection of a message that failed early.
        void Promise.resolve(s.tx?.dispose())
          .then(() => s.conn?.close())
          .catch(() => {});
      });
  });
}
