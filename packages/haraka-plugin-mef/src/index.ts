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
  this.loginfo(`MEF engine with ${plugins.join(', ')}; hooks: ${hooks.join(', ')}`);
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

/** Opens the engine's connection for Haraka's, with Haraka's facts about the client. */
function openConnection(plugin: MefPlugin, connection: HarakaConnection): Connection {
  const conn = engineOf(plugin).connection({
    id: connection.uuid,
    clientAddress: connection.remote.ip,
    ...(connection.remote.port ? { clientPort: connection.remote.port } : {}),
    ...(connection.remote.host && !/^(DNSERROR|NXDOMAIN|Unknown)$/i.test(connection.remote.host)
      ? { reverseName: connection.remote.host }
      : {}),
    direction: connection.relaying ? 'outbound' : 'inbound',
  });
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

function addressOf(a: HarakaAddress | undefined): string {
  if (!a) return '';
  const v = typeof a.address === 'function' ? a.address() : a.address;
  if (typeof v === 'string') return v;
  return a.user ? (a.host ? `${a.user}@${a.host}` : a.user) : '';
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
    if (!htx) return next();
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
    // No DATA hook ran for this message (a plugin before this one answered it): the same set-up.
    const refused = (await txFor(connection, htx)) ? undefined : await envelopeAtData(this, connection, htx);
    const tx = txOf(connection);
    if (refused || !tx) {
      await dropTx(connection);
      return refused ? answer(next, refused, htx) : next();
    }
    try {
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
