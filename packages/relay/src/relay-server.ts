/**
 * The filtering relay on smtp-server: no storage, no loss. Each RCPT is passed to the
 * destination as it comes (the sender gets the destination's own answer), the message is
 * scanned once while it streams in, kept only while the transaction lasts, forwarded with the
 * verdict's header changes, and the sender hears 250 only after the destination accepted.
 * This file holds the SMTP session; routing is `routing.ts`, the onward connection `onward.ts`,
 * DATA `data-phase.ts`, the forward client `smtp-client.ts`, limits `watchdog.ts` and `per-ip.ts`.
 * Just over 400 lines on purpose: the session's handlers (connect, MAIL, RCPT, DATA, close) read
 * and change the same per-session state, and stay together so that state has one reader.
 */
import type { BlockList } from 'node:net';
import type { Engine } from '@mef/core/hosts';
import { sessionInfo } from '@mef/smtp-server';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { ClientPool } from './client-pool.js';
import { type OnFinished, runData } from './data-phase.js';
import { limitOptions, readTls, type SubmissionMode, submissionOptions } from './listener-options.js';
import { dropClient, endDestinationTransaction, ensureClient } from './onward.js';
import { PerIpLimits } from './per-ip.js';
import { fromDestination, fromVerdict, isReplyError, replyError } from './replies.js';
import { routeOf } from './routing.js';
import type { DomainSettingsSource, RelaySection } from './schema.js';
import {
  newSession,
  newStats,
  type RelayStats,
  type Route,
  type ServerConnection,
  type SessionState,
} from './session.js';
import { TrustedNetworks } from './trusted-networks.js';
import { Watchdog } from './watchdog.js';

export type { SubmissionMode } from './listener-options.js';

export interface RelayServerOptions {
  relay: RelaySection;
  /** Built with the relay's policy callback (see `createRelay`), started by the caller. */
  engine: Engine;
  domains: DomainSettingsSource;
  outboundNetworks: BlockList;
  /** Run as a submission listener (587 or 465) instead of the MX listener. */
  submission?: SubmissionMode;
  /** Onward connections kept between sessions (shared by the listeners of one relay). */
  pool: ClientPool;
  /** CA certificates (PEM) for destinations whose TLS is `required`. */
  destinationCa?: Buffer;
  /** Called once per finished transaction. */
  onFinished?: OnFinished;
  /**
   * Whether a client that a DNS list refuses is refused at connect (554) now; otherwise at each
   * RCPT, under the recipient domain's policy.
   */
  refuseListedAtConnect?: () => boolean;
}

type Done = (err?: Error | null) => void;
function settle(p: Promise<void>, cb: Done): void {
  p.then(
    () => cb(),
    (err: Error) => cb(err),
  );
}

export class RelayServer {
  readonly server: SMTPServer;
  readonly stats: RelayStats = newStats();
  private readonly sessions = new Map<string, SessionState>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** The settings that apply to each transaction, by transaction id (read by the engine's policy). */
  readonly txSettings = new Map<string, Route>();
  private readonly watchdog: Watchdog;
  private readonly perIp = new PerIpLimits();
  private draining = false;
  private options: RelayServerOptions;
  private readonly trusted = new TrustedNetworks();

  constructor(options: RelayServerOptions) {
    this.options = options;
    const r = options.relay;
    const tls = readTls(r);
    const sub = options.submission;
    if (sub && !tls)
      throw new TypeError('relay.submission needs relay.tls (a key and certificate): AUTH only over TLS');
    this.server = new SMTPServer({
      name: r.hostname,
      banner: sub ? 'MEF submission' : 'MEF filtering relay',
      authOptional: true,
      ...(sub ? submissionOptions(sub) : { disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'] }),
      ...(tls ?? {}),
      logger: false,
      // No reverse lookup through the system resolver: MEF asks DNS only through the resolvers
      // it is given (the DNS-list stage does its own lookups).
      disableReverseLookup: true,
      ...limitOptions(r),
      closeTimeout: 1_000,
      onConnect: (session, cb) => settle(this.onConnect(session), cb),
      onSecure: (socket, session, cb) => {
        this.watchdog.watchSocket(this.sessions.get(session.id), socket);
        cb();
      },
      onMailFrom: (address, session, cb) =>
        settle(
          this.guard(session, (s) => this.onMailFrom(address, s, session)),
          cb,
        ),
      onRcptTo: (address, session, cb) =>
        settle(
          this.guard(session, (s) => this.onRcptTo(address, s, session)),
          cb,
        ),
      onData: (stream, session, cb) => {
        const p = this.guard(session, (s) => this.onData(stream, s));
        this.inflight.add(p);
        p.then(
          (msg) => cb(null, msg),
          (err: Error) => cb(err),
        ).finally(() => this.inflight.delete(p));
      },
      onClose: (session) => {
        void this.closeSession(session.id);
      },
    });
    this.server.on('error', () => {
      // A client that resets is the client's problem, not the relay's.
    });
    this.watchdog = new Watchdog(r.limits, this.sessions, this.stats);
  }

  /**
   * Applies a new configuration (SIGHUP): new sessions use the new engine, limits, domains and
   * networks; sessions already open finish on the engine they started with. The listening
   * address and the submission mode stay (they need a restart); the certificate is read again.
   */
  reconfigure(next: RelayServerOptions): void {
    this.options = next;
    const r = next.relay;
    Object.assign(this.server.options, limitOptions(r));
    const tls = readTls(r);
    if (tls) (this.server as unknown as { updateSecureContext(o: object): void }).updateSecureContext(tls);
    this.watchdog.setLimits(r.limits);
  }

  /** How many open sessions run on `engine` (an engine replaced by a reload stops when none do). */
  sessionsOn(engine: Engine): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.engine === engine) n++;
    return n;
  }

  /** Starts listening; resolves with the bound port. */
  async listen(
    port = this.options.relay.listen.port,
    host = this.options.relay.listen.host,
  ): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.server.off('error', reject);
        resolve();
      });
    });
    this.watchdog.start();
    const addr = this.server.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /**
   * Graceful stop: new connections and idle sessions get 421 at once, transactions whose DATA
   * is in flight finish (up to `limits.drainTime`), then every session is closed. A sender is
   * never told 421 after the destination accepted its message.
   */
  async close(): Promise<void> {
    this.draining = true;
    for (const s of this.sessions.values()) if (!s.dataStream) this.hangUp(s, 'Server shutting down');
    const deadline = new Promise((resolve) =>
      setTimeout(resolve, this.options.relay.limits.drainTime).unref(),
    );
    await Promise.race([Promise.allSettled([...this.inflight]), deadline]);
    this.watchdog.stop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const id of [...this.sessions.keys()]) await this.closeSession(id);
  }

  /** Number of sessions open now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private get hostname(): string {
    return this.options.relay.hostname;
  }

  private hangUp(s: SessionState, text: string): void {
    s.connection?.send(421, `${this.hostname} ${text}`);
    s.connection?.close();
  }

  /** Marks the session busy while the relay works on a command (the watchdog then waits). */
  private async guard<T>(session: SMTPServerSession, fn: (s: SessionState) => Promise<T>): Promise<T> {
    const s = this.sessions.get(session.id);
    if (!s) throw replyError(421, '4.3.0', 'Session state lost, try again');
    s.busy++;
    try {
      return await fn(s);
    } finally {
      s.busy--;
      s.lastLine = Date.now();
    }
  }

  private findConnection(id: string): ServerConnection | undefined {
    for (const c of (this.server as unknown as { connections: Set<ServerConnection> }).connections) {
      if (c.id === id) return c;
    }
    return undefined;
  }

  /** The client is in the trusted networks (asked once per session, at connect). */
  private inTrustedNetworks(session: SMTPServerSession): boolean {
    const networks = this.options.submission?.networks ?? this.options.outboundNetworks;
    return this.trusted.has(networks, session.remoteAddress);
  }

  /** The client authenticated, or connected from the trusted networks. */
  private isTrusted(session: SMTPServerSession, s: SessionState): boolean {
    // smtp-server sets `user` to false after a failed AUTH: only a name counts.
    if (typeof session.user === 'string' && session.user !== '') return true;
    return s.trustedNetwork;
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    if (this.draining) throw replyError(421, '4.3.2', `${this.hostname} Server shutting down`);
    const trusted = this.inTrustedNetworks(session);
    if (!trusted) this.perIp.admit(session.remoteAddress, this.options.relay.limits, this.hostname);
    this.stats.connections++;
    const engine = this.options.engine;
    const conn = engine.connection({
      ...sessionInfo(session),
      direction: this.options.submission || trusted ? 'outbound' : 'inbound',
    });
    const verdict = await conn.connect().catch((err: Error) => {
      if (!trusted) this.perIp.release(session.remoteAddress);
      throw err;
    });
    const s = newSession(session.id, engine, conn, verdict);
    s.address = trusted ? '' : session.remoteAddress;
    s.trustedNetwork = trusted;
    s.connection = this.findConnection(session.id);
    this.sessions.set(session.id, s);
    this.watchdog.watchSocket(s, s.connection?._socket);
    if (verdict.disposition === 'reject' || verdict.disposition === 'tempfail') throw fromVerdict(verdict);
    const listed = conn.state.rbl;
    if (listed?.pendingRcpt && !listed.allowlisted && this.options.refuseListedAtConnect?.()) {
      // RFC 5321 §3.1: a server that refuses at connect answers 554.
      const r = listed.pendingRcpt.reply;
      throw replyError(554, r.enhanced, r.text);
    }
  }

  private async resetTransaction(s: SessionState): Promise<void> {
    const tx = s.tx;
    s.tx = undefined;
    s.txState = undefined;
    s.route = undefined;
    if (tx) {
      this.txSettings.delete(tx.id);
      await tx.dispose();
    }
    await endDestinationTransaction(s);
    s.mailSent = false;
  }

  private async onMailFrom(
    address: SMTPServerAddress,
    s: SessionState,
    session: SMTPServerSession,
  ): Promise<void> {
    if (this.draining) throw replyError(421, '4.3.2', `${this.hostname} Server shutting down`);
    if (this.options.submission && !this.isTrusted(session, s)) {
      throw replyError(530, '5.7.0', 'Authentication required');
    }
    if (!s.heloDone && session.hostNameAppearsAs) {
      s.heloDone = true;
      const hv = await s.conn.helo(session.hostNameAppearsAs);
      if (hv.disposition === 'reject' || hv.disposition === 'tempfail') throw fromVerdict(hv);
    }
    await this.resetTransaction(s);
    s.tx = s.conn.transaction();
    s.txState = {
      accepted: [],
      hops: 0,
      secure: session.secure === true,
      authenticated: typeof session.user === 'string' && session.user !== '',
    };
    s.tx.state.mefRelay = s.txState;
    const params: Record<string, string | true> = {};
    for (const [k, v] of Object.entries(address.args || {}))
      params[k.toUpperCase()] = v === true ? true : String(v);
    const v = await s.tx.mailFrom(address.address, params);
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
  }

  private async onRcptTo(
    address: SMTPServerAddress,
    s: SessionState,
    session: SMTPServerSession,
  ): Promise<void> {
    const tx = s.tx;
    const state = s.txState;
    if (!tx || !state) throw replyError(503, '5.5.1', 'MAIL FROM first');
    if (state.accepted.length >= this.options.relay.limits.recipients) {
      throw replyError(452, '4.5.3', 'Too many recipients for this message, send the rest separately');
    }
    const sub = this.options.submission;
    const route = routeOf(address.address, {
      submission: sub ? { smarthost: 'smarthost' in sub.next ? sub.next.smarthost : '' } : undefined,
      domains: this.options.domains,
      outbound: this.options.relay.outbound,
      trusted: this.isTrusted(session, s),
    });
    if (sub && 'mx' in sub.next) {
      route.destination = await sub.next.mx.of(route.domain);
      route.key = `out:${route.destination}`;
    }
    if (s.route && s.route.key !== route.key) {
      // One transaction goes to one domain and destination, so one DATA reply and one policy
      // are true for every recipient.
      throw replyError(
        452,
        '4.5.3',
        'Recipients of another domain or next hop: send them in a separate transaction',
      );
    }
    // The engine's policy (monitor mode, thresholds) is this domain's from the first RCPT on.
    const first = !s.route;
    this.txSettings.set(tx.id, route);
    let v: Awaited<ReturnType<typeof tx.rcptTo>>;
    try {
      v = await tx.rcptTo(address.address);
      if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
    } catch (err) {
      if (first) this.txSettings.delete(tx.id);
      throw err;
    }
    const client = await ensureClient(s, route, {
      relay: this.options.relay,
      pool: this.options.pool,
      stats: this.stats,
      destinationCa: this.options.destinationCa,
    });
    try {
      let rr: Awaited<ReturnType<typeof client.rcpt>>;
      if (!s.mailSent) {
        const from = tx.context.mailFrom;
        const both = await client.mailRcpt(from?.address ?? '', from?.params ?? {}, address.address);
        if (both.mail.code !== 250 || !both.rcpt)
          throw fromDestination(both.mail, 'Destination refused the sender');
        s.mailSent = true;
        rr = both.rcpt;
      } else rr = await client.rcpt(address.address);
      if (rr.code !== 250 && rr.code !== 251) throw fromDestination(rr, 'Destination refused the recipient');
    } catch (err) {
      if (isReplyError(err)) throw err;
      this.stats.destinationFailures++;
      dropClient(s);
      throw replyError(
        451,
        '4.4.1',
        `Destination not reachable now (${(err as Error).message}), try again later`,
      );
    }
    state.accepted.push(address.address);
    if (v.monitor && v.wouldBe !== undefined) state.wouldBe ??= v.wouldBe;
    s.route = route;
  }

  private async onData(stream: SMTPServerDataStream, s: SessionState): Promise<string> {
    const id = s.tx?.id;
    try {
      return await runData(s, stream, {
        relay: this.options.relay,
        stats: this.stats,
        onFinished: this.options.onFinished,
      });
    } finally {
      if (id) this.txSettings.delete(id);
    }
  }

  private async closeSession(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    s.closed = true;
    if (s.address) this.perIp.release(s.address);
    this.sessions.delete(id);
    // A sender that drops mid-DATA: end the stream so the scan ends and the kept copy is removed now.
    if (s.dataStream && !s.dataStream.readableEnded)
      s.dataStream.destroy(new Error('client closed the connection'));
    if (!s.dataStream) await this.resetTransaction(s).catch(() => undefined);
    const c = s.client;
    if (c?.usable && !s.mailSent && !s.dataStream && s.clientKey && !this.draining) {
      s.client = undefined;
      this.options.pool.give(s.clientKey, c);
    }
    dropClient(s);
    await s.conn.close().catch(() => undefined);
  }
}
