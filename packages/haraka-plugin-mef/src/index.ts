import { availableParallelism } from 'node:os';
import { buildEngine, resolveConfig, validateConfig } from '@mef/cli';
import type { Verdict } from '@mef/core';
import {
  type Connection,
  type Engine,
  harakaCodes,
  type ThreadEnvelope,
  type ThreadPool,
  type ThreadResult,
  type ThreadScan,
  type Transaction,
} from '@mef/core/hosts';
import type {
  HarakaAddress,
  HarakaConnection,
  HarakaNext,
  HarakaPlugin,
  HarakaTransaction,
} from './haraka.js';
import { poolFor, stopPool } from './pool.js';
import { addressOf, answer, conclude, feed } from './verdicts.js';

export type { ThreadEnvelope, ThreadPool, ThreadResult, ThreadScan } from '@mef/core/hosts';
export type * from './haraka.js';
export { applyMutations } from './verdicts.js';

/**
 * The plugin object as this plugin uses it: Haraka's, plus the engine (one per Haraka process).
 * With the thread pool the engine is built (to check the config and ask `stagesAt`) but never
 * started: the threads' engines do the work.
 */
export interface MefPlugin extends HarakaPlugin {
  mef?: { engine: Engine; starting?: Promise<void>; threads?: ThreadPool };
}

const CONN = 'mef_connection';
/** The message a thread is scanning for this connection (threads mode), until its verdict. */
const THREAD_SCAN = 'mef_thread_scan';
const TX = 'mef_transaction';
/** The uuid of the Haraka transaction the engine's transaction belongs to. */
const TX_OF = 'mef_transaction_of';

function engineOf(plugin: MefPlugin): Engine {
  if (!plugin.mef) throw new Error('haraka-plugin-mef: register() did not run');
  return plugin.mef.engine;
}

/** The engine phases Haraka's envelope hooks run. */
const ENVELOPE_PHASES = ['connect', 'helo', 'mailFrom', 'rcptTo'] as const;

/** Haraka's envelope hooks and the plugin's method for each. */
const ENVELOPE_HOOKS = [
  ['connect', 'mef_connect'],
  ['helo', 'mef_helo'],
  ['ehlo', 'mef_helo'],
  ['mail', 'mef_mail'],
  ['rcpt', 'mef_rcpt'],
] as const;

/**
 * Reads `config/mef.yaml` (the schema of `mef scan --config`) and builds the engine. The
 * envelope hooks are registered only when a stage acts at an envelope phase
 * (`engine.stagesAt`); `data`, `data_post` and `disconnect` always are (`hook_*` exports).
 */
export function register(this: MefPlugin): void {
  const raw = this.config.get('mef.yaml', 'yaml') ?? {};
  const config = resolveConfig(validateConfig(raw, 'config/mef.yaml'), {});
  const { engine, plugins } = buildEngine(config);
  // Started at the first connection: Haraka may load a plugin more than once per process.
  this.mef = { engine };
  const early = ENVELOPE_PHASES.some((p) => engine.stagesAt(p).length > 0);
  if (early) for (const [hook, method] of ENVELOPE_HOOKS) this.register_hook(hook, method);
  const hooks = [...(early ? ENVELOPE_HOOKS.map(([h]) => h) : []), 'data', 'data_post', 'disconnect'];
  const threads = threadsOf(this.config.get('mef.ini', 'ini'), availableParallelism());
  // The threads build (and start) their own engines; this one then only answered `stagesAt`.
  // With a stage at an envelope phase the pool is not used: the envelope hooks need the engine here.
  if (threads > 0 && !early) this.mef.threads = poolFor(threads, raw);
  const where = this.mef.threads
    ? `, the message phase in ${threads} thread${threads > 1 ? 's' : ''}`
    : ', the message phase on the event loop';
  this.loginfo(`MEF engine with ${plugins.join(', ')}; hooks: ${hooks.join(', ')}${where}`);
}

/**
 * `[main] threads` of `config/mef.ini`: `auto` (the default) is one thread on a machine with two
 * or more CPUs (`cpus`: `os.availableParallelism()`), none on one CPU; 0 runs the engine on
 * Haraka's event loop; N (up to 64) runs N threads.
 */
export function threadsOf(ini: unknown, cpus: number): number {
  const v = (ini as { main?: { threads?: unknown } } | undefined)?.main?.threads;
  if (v === undefined || v === null || v === '' || v === 'auto') return cpus >= 2 ? 1 : 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    throw new Error(`config/mef.ini: threads must be auto or a whole number from 0 to 64, got ${String(v)}`);
  }
  return n;
}

/** Stops the engine when Haraka shuts down. */
export function shutdown(this: MefPlugin): void {
  void this.mef?.engine.stop();
  if (this.mef?.threads) stopPool(this.mef.threads);
}

/** Runs `work`; an exception (the engine failed to start...) defers the mail with 451. */
function guarded(plugin: MefPlugin, next: HarakaNext, work: () => Promise<void>): void {
  const mef = plugin.mef;
  // With the thread pool the threads start their engines; this one stays unstarted.
  if (mef && !mef.threads && !mef.starting) mef.starting = mef.engine.start();
  (mef?.starting ?? Promise.resolve()).then(work).catch((err: unknown) => {
    plugin.logerror(`haraka-plugin-mef: ${(err as Error).message}`);
    next(harakaCodes.DENYSOFT, '4.3.0 Temporary failure in the mail filter, please try again later');
  });
}

function connOf(connection: HarakaConnection): Connection | undefined {
  return connection.notes[CONN] as Connection | undefined;
}

/** The connection's open transaction: one at a time, kept on the connection so that an RSET
 * (a new Haraka transaction object) cannot lose it before the next MAIL or the disconnect. */
function txOf(connection: HarakaConnection): Transaction | undefined {
  return connection.notes[TX] as Transaction | undefined;
}

/** The engine's transaction for Haraka's `htx`; one left from an earlier Haraka transaction is disposed. */
async function txFor(connection: HarakaConnection, htx: HarakaTransaction): Promise<Transaction | undefined> {
  if (connection.notes[TX_OF] !== htx.uuid) await dropTx(connection);
  return txOf(connection);
}

/** Disposes the open transaction, if any (at the next MAIL, after data_post, at disconnect). */
function dropTx(connection: HarakaConnection): Promise<void> | undefined {
  const tx = txOf(connection);
  delete connection.notes[TX];
  delete connection.notes[TX_OF];
  return tx?.dispose();
}

/** Haraka's facts about the client, as the engine takes them. */
function connectionInfo(connection: HarakaConnection): ThreadEnvelope['connection'] {
  const host = connection.remote.host;
  return {
    id: connection.uuid,
    clientAddress: connection.remote.ip,
    ...(connection.remote.port ? { clientPort: connection.remote.port } : {}),
    ...(host && !/^(DNSERROR|NXDOMAIN|Unknown)$/i.test(host) ? { reverseName: host } : {}),
    direction: connection.relaying ? 'outbound' : 'inbound',
  };
}

/** Opens the engine's connection for Haraka's. */
function openConnection(plugin: MefPlugin, connection: HarakaConnection): Connection {
  const conn = engineOf(plugin).connection(connectionInfo(connection));
  connection.notes[CONN] = conn;
  return conn;
}

/** Haraka's `connect` hook (registered when a stage acts at an envelope phase). */
export function mef_connect(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  guarded(this, next, async () => {
    answer(next, await openConnection(this, connection).connect());
  });
}

/** Haraka's `helo` and `ehlo` hooks (registered when a stage acts at an envelope phase). */
export function mef_helo(
  this: MefPlugin,
  next: HarakaNext,
  connection: HarakaConnection,
  host: string,
): void {
  guarded(this, next, async () => {
    const conn = connOf(connection);
    if (!conn) return next();
    answer(next, await conn.helo(host));
  });
}

/** ESMTP parameters: an object (`{ SIZE: '100', SMTPUTF8: null }`, Haraka 3) or `KEY=VALUE` strings. */
function paramsOf(list: unknown): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  if (list && typeof list === 'object' && !Array.isArray(list)) {
    for (const [k, v] of Object.entries(list)) out[k.toUpperCase()] = typeof v === 'string' ? v : true;
    return out;
  }
  for (const p of Array.isArray(list) ? list : []) {
    const s = String(p);
    const eq = s.indexOf('=');
    if (eq < 0) out[s.toUpperCase()] = true;
    else out[s.slice(0, eq).toUpperCase()] = s.slice(eq + 1);
  }
  return out;
}

/** Starts the engine's transaction, after telling it who authenticated. */
function startTransaction(
  connection: HarakaConnection,
  conn: Connection,
  htx: HarakaTransaction,
): Transaction {
  // An auth plugin (auth/flat_file...) stored the user it accepted: the engine records it,
  // with the outbound direction.
  const user = connection.notes.auth_user;
  if (typeof user === 'string' && user !== '' && conn.info.user === undefined) conn.authenticate(user);
  const tx = conn.transaction();
  connection.notes[TX] = tx;
  connection.notes[TX_OF] = htx.uuid;
  return tx;
}

/** Haraka's `mail` hook (registered when a stage acts at an envelope phase). */
export function mef_mail(
  this: MefPlugin,
  next: HarakaNext,
  connection: HarakaConnection,
  params: [HarakaAddress, ...unknown[]],
): void {
  guarded(this, next, async () => {
    const conn = connOf(connection);
    const htx = connection.transaction;
    if (!conn || !htx) return next();
    await dropTx(connection);
    const tx = startTransaction(connection, conn, htx);
    answer(next, await tx.mailFrom(addressOf(params[0]), paramsOf(params[1])), htx);
  });
}

/** Haraka's `rcpt` hook (registered when a stage acts at an envelope phase). */
export function mef_rcpt(
  this: MefPlugin,
  next: HarakaNext,
  connection: HarakaConnection,
  params: [HarakaAddress, ...unknown[]],
): void {
  guarded(this, next, async () => {
    const tx = txOf(connection);
    if (!tx) return next();
    answer(next, await tx.rcptTo(addressOf(params[0]), paramsOf(params[1])));
  });
}

/**
 * Without the envelope hooks (no stage acts before the message), the engine hears the
 * connection, HELO, sender and recipients at DATA, from what Haraka accepted (their ESMTP
 * parameters are not kept by Haraka). Returns the first refusal, if any: it answers DATA.
 */
async function envelopeAtData(
  plugin: MefPlugin,
  connection: HarakaConnection,
  htx: HarakaTransaction,
): Promise<Verdict | undefined> {
  let conn = connOf(connection);
  if (!conn) {
    conn = openConnection(plugin, connection);
    const v = await conn.connect();
    if (v.disposition !== 'accept') return v;
    const host = connection.hello?.host;
    if (host) {
      const h = await conn.helo(host);
      if (h.disposition !== 'accept') return h;
    }
  }
  const tx = startTransaction(connection, conn, htx);
  const m = await tx.mailFrom(addressOf(htx.mail_from ?? undefined));
  if (m.disposition !== 'accept') return m;
  let refused: Verdict | undefined;
  for (const r of htx.rcpt_to ?? []) {
    const v = await tx.rcptTo(addressOf(r));
    if (v.disposition !== 'accept') refused = v;
  }
  return tx.recipients.length === 0 ? refused : undefined;
}

/**
 * DATA: the message phase starts (`begin()`: every message stage asks for its views before
 * the first byte), after the envelope reached the engine (at its own hooks, or here). A
 * refusal of the envelope found here answers DATA.
 */
export function hook_data(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  guarded(this, next, async () => {
    const htx = connection.transaction;
    // With threads, the envelope goes to a thread with the message, at data_post.
    if (!htx || this.mef?.threads) return next();
    const refused = (await txFor(connection, htx)) ? undefined : await envelopeAtData(this, connection, htx);
    if (refused) {
      await dropTx(connection);
      return answer(next, refused, htx);
    }
    txOf(connection)?.begin();
    next();
  });
}

/** data_post: Haraka's message stream into the transaction, then the verdict's answer. */
export function hook_data_post(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  guarded(this, next, async () => {
    const htx = connection.transaction;
    if (!htx) return next();
    const threads = this.mef?.threads;
    if (threads) return viaThreads(this, threads, connection, htx, next);
    // No DATA hook ran for this message (a plugin before this one answered it): the same set-up.
    const refused = (await txFor(connection, htx)) ? undefined : await envelopeAtData(this, connection, htx);
    const tx = txOf(connection);
    if (refused || !tx) {
      await dropTx(connection);
      return refused ? answer(next, refused, htx) : next();
    }
    try {
      await feed(htx, (chunk) => tx.write(chunk));
    } catch (err) {
      await tx.fail(err as Error);
    }
    const v = await tx.end();
    conclude(this, htx, next, v, tx.context.direction, tx.context.user);
    await dropTx(connection);
  });
}

/** What a thread needs to hear the envelope Haraka accepted. */
function envelopeOf(connection: HarakaConnection, htx: HarakaTransaction): ThreadEnvelope {
  const user = connection.notes.auth_user;
  const host = connection.hello?.host;
  return {
    connection: connectionInfo(connection),
    ...(host ? { helo: host } : {}),
    ...(typeof user === 'string' && user !== '' ? { user } : {}),
    mailFrom: addressOf(htx.mail_from ?? undefined),
    rcptTo: (htx.rcpt_to ?? []).map((r) => addressOf(r)),
  };
}

/** data_post with threads: the envelope and the message stream go to a thread, its verdict answers. */
async function viaThreads(
  plugin: MefPlugin,
  threads: ThreadPool,
  connection: HarakaConnection,
  htx: HarakaTransaction,
  next: HarakaNext,
): Promise<void> {
  const scan = threads.scan(envelopeOf(connection, htx));
  connection.notes[THREAD_SCAN] = scan;
  let error: string | undefined;
  await feed(htx, (chunk) => scan.write(chunk)).catch((err: unknown) => {
    error = (err as Error).message;
  });
  delete connection.notes[THREAD_SCAN];
  const r: ThreadResult = await scan.end(error);
  if (r.refused) return answer(next, r.verdict, htx);
  conclude(plugin, htx, next, r.verdict, r.direction, r.user);
}

export function hook_disconnect(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  const conn = connOf(connection);
  delete connection.notes[CONN];
  // A message whose stream never ended: the thread drops it (a later end for it is ignored).
  const scan = connection.notes[THREAD_SCAN] as ThreadScan | undefined;
  delete connection.notes[THREAD_SCAN];
  scan?.end('the client disconnected before the message was read').catch(() => {});
  void (async () => {
    await dropTx(connection);
    await conn?.close();
  })().catch((err: unknown) => this.logerror(`haraka-plugin-mef: ${(err as Error).message}`));
  next();
}
