import { Writable } from 'node:stream';
import { buildEngine, resolveConfig, validateConfig } from '@mef/cli';
import type { HeaderMutation, Verdict } from '@mef/core';
import { type Connection, type Engine, harakaCodes, type Transaction, toHaraka } from '@mef/core/hosts';
import type {
  HarakaAddress,
  HarakaConnection,
  HarakaNext,
  HarakaPlugin,
  HarakaTransaction,
} from './haraka.js';

export type * from './haraka.js';

/** The plugin object as this plugin uses it: Haraka's, plus the engine (one per Haraka process). */
export interface MefPlugin extends HarakaPlugin {
  mef?: { engine: Engine; starting?: Promise<void> };
}

const CONN = 'mef_connection';
const TX = 'mef_transaction';

function engineOf(plugin: MefPlugin): Engine {
  if (!plugin.mef) throw new Error('haraka-plugin-mef: register() did not run');
  return plugin.mef.engine;
}

/** Reads `config/mef.yaml` (the schema of `mef scan --config`) and builds the engine. */
export function register(this: MefPlugin): void {
  const raw = this.config.get('mef.yaml', 'yaml') ?? {};
  const config = resolveConfig(validateConfig(raw, 'config/mef.yaml'), {});
  const { engine, plugins } = buildEngine(config);
  // Started at the first connection: Haraka may load a plugin more than once per process.
  this.mef = { engine };
  this.loginfo(`MEF engine with ${plugins.join(', ')}`);
}

/** Stops the engine when Haraka shuts down. */
export function shutdown(this: MefPlugin): void {
  void this.mef?.engine.stop();
}

/** Answers a hook from a verdict (core's `toHaraka`): DENY, DENYSOFT, DENYDISCONNECT or CONT. */
function answer(next: HarakaNext, v: Verdict, tx?: HarakaTransaction | null): void {
  const a = toHaraka(v);
  if (tx && a.quarantine) tx.notes.quarantine = 'mef';
  if (tx && a.discard) tx.notes.discard = true;
  if (a.code === harakaCodes.CONT) next();
  else next(a.code, a.msg);
}

/** Runs `work`; an exception (the engine failed to start...) defers the mail with 451. */
function guarded(plugin: MefPlugin, next: HarakaNext, work: () => Promise<void>): void {
  const mef = plugin.mef;
  if (mef && !mef.starting) mef.starting = mef.engine.start();
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

/** Disposes the open transaction, if any (at the next MAIL, after data_post, at disconnect). */
function dropTx(connection: HarakaConnection): Promise<void> | undefined {
  const tx = txOf(connection);
  delete connection.notes[TX];
  return tx?.dispose();
}

export function hook_connect(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  guarded(this, next, async () => {
    const conn = engineOf(this).connection({
      id: connection.uuid,
      clientAddress: connection.remote.ip,
      ...(connection.remote.port ? { clientPort: connection.remote.port } : {}),
      ...(connection.remote.host && !/^(DNSERROR|NXDOMAIN|Unknown)$/i.test(connection.remote.host)
        ? { reverseName: connection.remote.host }
        : {}),
      direction: connection.relaying ? 'outbound' : 'inbound',
    });
    connection.notes[CONN] = conn;
    answer(next, await conn.connect());
  });
}

function helo(plugin: MefPlugin, next: HarakaNext, connection: HarakaConnection, host: string): void {
  guarded(plugin, next, async () => {
    const conn = connOf(connection);
    if (!conn) return next();
    answer(next, await conn.helo(host));
  });
}

export function hook_helo(
  this: MefPlugin,
  next: HarakaNext,
  connection: HarakaConnection,
  host: string,
): void {
  helo(this, next, connection, host);
}

export function hook_ehlo(
  this: MefPlugin,
  next: HarakaNext,
  connection: HarakaConnection,
  host: string,
): void {
  helo(this, next, connection, host);
}

function addressOf(a: HarakaAddress | undefined): string {
  if (!a) return '';
  const v = typeof a.address === 'function' ? a.address() : a.address;
  if (typeof v === 'string') return v;
  return a.user ? (a.host ? `${a.user}@${a.host}` : a.user) : '';
}

function paramsOf(list: unknown): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const p of Array.isArray(list) ? list : []) {
    const s = String(p);
    const eq = s.indexOf('=');
    if (eq < 0) out[s.toUpperCase()] = true;
    else out[s.slice(0, eq).toUpperCase()] = s.slice(eq + 1);
  }
  return out;
}

export function hook_mail(
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
    // An auth plugin (auth/flat_file...) stored the user it accepted: the engine records it,
    // with the outbound direction.
    const user = connection.notes.auth_user;
    if (typeof user === 'string' && user !== '' && conn.info.user === undefined) conn.authenticate(user);
    const tx = conn.transaction();
    connection.notes[TX] = tx;
    answer(next, await tx.mailFrom(addressOf(params[0]), paramsOf(params[1])), htx);
  });
}

export function hook_rcpt(
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

/** Feeds Haraka's message stream into the transaction, chunk by chunk, with backpressure. */
function feed(htx: HarakaTransaction, tx: Transaction): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        tx.write(chunk).then(() => done(), done);
      },
      final(done) {
        done();
        resolve();
      },
    });
    sink.on('error', reject);
    htx.message_stream.pipe(sink, { line_endings: '\r\n', dot_stuffed: true });
  });
}

/** Applies a verdict's header changes through Haraka's transaction API. */
export function applyMutations(htx: HarakaTransaction, mutations: readonly HeaderMutation[]): void {
  for (const m of mutations) {
    switch (m.op) {
      case 'add':
        htx.add_header(m.name, m.value);
        break;
      case 'prepend':
        htx.add_leading_header(m.name, m.value);
        break;
      case 'set':
        htx.remove_header(m.name);
        htx.add_header(m.name, m.value);
        break;
      case 'remove':
        htx.remove_header(m.name);
        break;
      case 'subject': {
        const subject = htx.header.get('Subject').trim();
        htx.remove_header('Subject');
        htx.add_header('Subject', `${m.prefix} ${subject}`.trimEnd());
        break;
      }
    }
  }
}

export function hook_data_post(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  guarded(this, next, async () => {
    const htx = connection.transaction;
    const tx = txOf(connection);
    if (!htx || !tx) return next();
    try {
      // The message phase starts here: every stage asks for its views, then the bytes flow
      // (Haraka has the whole message by data_post, so no hook at DATA is needed).
      tx.begin();
      await feed(htx, tx);
    } catch (err) {
      await tx.fail(err as Error);
    }
    const v = await tx.end();
    htx.results.add(this, {
      disposition: v.disposition,
      score: v.score.value,
      action: v.score.action,
      spam: v.spam,
      symbols: v.symbols.map((s) => ({
        name: s.name,
        score: s.score,
        ...(s.options ? { options: s.options } : {}),
      })),
      errors: v.errors.map((e) => `${e.stage}: ${e.code}`),
      direction: tx.context.direction,
      // Haraka's one-line summary; given, so haraka-results need not build it from every field.
      human: `${v.disposition} score=${v.score.value}`,
      ...(tx.context.user !== undefined ? { user: tx.context.user } : {}),
      ...(v.reply ? { reply: v.reply } : {}),
    });
    if (v.disposition === 'accept' || v.disposition === 'quarantine') applyMutations(htx, v.mutations);
    answer(next, v, htx);
    await dropTx(connection);
  });
}

export function hook_disconnect(this: MefPlugin, next: HarakaNext, connection: HarakaConnection): void {
  const conn = connOf(connection);
  delete connection.notes[CONN];
  void (async () => {
    await dropTx(connection);
    await conn?.close();
  })().catch((err: unknown) => this.logerror(`haraka-plugin-mef: ${(err as Error).message}`));
  next();
}
