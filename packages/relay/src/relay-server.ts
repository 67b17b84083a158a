/**
 * The filtering relay on smtp-server: no storage, no loss. Each RCPT is passed to the
 * destination as it comes (the sender gets the destination's own answer), the message is
 * scanned once while it streams in, kept only while the transaction lasts, forwarded with the
 * verdict's header changes, and the sender hears 250 only after the destination accepted.
 * This file holds the SMTP side; the forward path is `smtp-client.ts`, limits `watchdog.ts`.
 */
import { readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import type { Readable } from 'node:stream';
import type { Engine, Transaction, Verdict } from '@mef/core';
import { normalizeIp } from '@mef/plugin-rbl';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { ClientPool } from './client-pool.js';
import { deliver } from './deliver.js';
import type { NextHop } from './next-hop.js';
import type { TransactionTimes } from './operations.js';
import {
  domainOf,
  fromDestination,
  fromVerdict,
  hasSenderRouting,
  isReplyError,
  replyError,
  splitHostPort,
} from './replies.js';
import type { DomainSettingsSource, RelaySection, TransactionRecord } from './schema.js';
import {
  newSession,
  newStats,
  type RelayStats,
  type Route,
  type ServerConnection,
  type SessionState,
} from './session.js';
import { SmtpClient } from './smtp-client.js';
import type { UsersFile } from './users.js';
import { Watchdog } from './watchdog.js';

export interface RelayServerOptions {
  relay: RelaySection;
  /** Built with the relay's policy callback (see `createRelay`), not started. */
  engine: Engine;
  domains: DomainSettingsSource;
  outboundNetworks: BlockList;
  /** Run as a submission listener (587 or 465) instead of the MX listener. */
  submission?: SubmissionMode;
  /** Onward connections kept between sessions (shared by the listeners of one relay). */
  pool: ClientPool;
  /** Called once per finished transaction. */
  onFinished?: (record: TransactionRecord, times: TransactionTimes, verdict: Verdict | undefined) => void;
}

/** A submission listener: AUTH over TLS against the users file, or the client networks, else 530. */
export interface SubmissionMode {
  /** Implicit TLS (465); else STARTTLS (587). */
  secure: boolean;
  users: UsersFile | undefined;
  networks: BlockList;
  /** The next hop: a smarthost, or each recipient domain's MX. */
  next: { smarthost: string } | { mx: NextHop };
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
  private draining = false;
  /** Open sessions and recent session starts by client address (bounded: swept with the sessions). */
  private readonly perIp = new Map<string, { open: number; starts: number[] }>();

  constructor(private readonly options: RelayServerOptions) {
    const r = options.relay;
    const tls = r.tls ? { key: readFileSync(r.tls.key), cert: readFileSync(r.tls.cert) } : undefined;
    const sub = options.submission;
    if (sub && !tls)
      throw new TypeError('relay.submission needs relay.tls (a key and certificate): AUTH only over TLS');
    this.server = new SMTPServer({
      name: r.hostname,
      banner: sub ? 'MEF submission' : 'MEF filtering relay',
      size: r.maxMessageBytes,
      authOptional: true,
      ...(sub
        ? {
            secure: sub.secure,
            authMethods: ['PLAIN', 'LOGIN'],
            // AUTH only over TLS: smtp-server hides and refuses it before STARTTLS.
            allowInsecureAuth: false,
            disabledCommands: sub.users ? [] : ['AUTH'],
            onAuth: (auth, session, cb) => {
              const users = sub.users;
              if (!users || !session.secure)
                return cb(replyError(538, '5.7.11', 'Encryption required for authentication'));
              users.verify(auth.username ?? '', auth.password ?? '').then(
                (ok) =>
                  ok
                    ? cb(null, { user: auth.username })
                    : cb(replyError(535, '5.7.8', 'Authentication credentials invalid')),
                () => cb(replyError(454, '4.7.0', 'Temporary authentication failure')),
              );
            },
          }
        : { disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'] }),
      ...(tls ?? {}),
      logger: false,
      // No reverse lookup through the system resolver: MEF asks DNS only through the resolvers
      // it is given (the DNS-list stage does its own lookups).
      disableReverseLookup: true,
      // Our smtp-server patch (patches/smtp-server@3.21.6.patch): the early-talker wait, fixed
      // at 100 ms upstream, is `greetingDelay`; 0 by default, like Postfix's smtpd.
      ...({ greetingDelay: r.limits.greetingDelay } as object),
      maxClients: r.limits.connections,
      socketTimeout: r.limits.commandTime,
      closeTimeout: 1_000,
      onConnect: (session, cb) => settle(this.onConnect(session), cb),
      onSecure: (socket, session, cb) => {
        this.watchdog.watchSocket(this.sessions.get(session.id), socket);
        cb();
      },
      onMailFrom: (address, session, cb) =>
        settle(
          this.guard(session, () => this.onMailFrom(address, session)),
          cb,
        ),
      onRcptTo: (address, session, cb) =>
        settle(
          this.guard(session, () => this.onRcptTo(address, session)),
          cb,
        ),
      onData: (stream, session, cb) => {
        const p = this.guard(session, () => this.onData(stream, session));
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
   * is in flight finish (up to `limits.drainTime`), then every session is closed and the engine
   * stopped. A sender is never told 421 after the destination accepted its message.
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

  private hangUp(s: SessionState, text: string): void {
    s.connection?.send(421, `${this.options.relay.hostname} ${text}`);
    s.connection?.close();
  }

  /** Marks the session busy while the relay works on a command (the watchdog then waits). */
  private async guard<T>(session: SMTPServerSession, fn: () => Promise<T>): Promise<T> {
    const s = this.sessions.get(session.id);
    if (!s) throw replyError(421, '4.3.0', 'Session state lost, try again');
    s.busy++;
    try {
      return await fn();
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

  private isTrusted(session: SMTPServerSession): boolean {
    // smtp-server sets `user` to false after a failed AUTH: only a name counts.
    if (typeof session.user === 'string' && session.user !== '') return true;
    const ip = normalizeIp(session.remoteAddress);
    const networks = this.options.submission?.networks ?? this.options.outboundNetworks;
    return ip !== undefined && networks.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    if (this.draining) throw replyError(421, '4.3.2', `${this.options.relay.hostname} Server shutting down`);
    if (!this.isTrusted(session)) this.admit(session.remoteAddress);
    this.stats.connections++;
    const conn = this.options.engine.connection({
      id: session.id,
      clientAddress: session.remoteAddress,
      clientPort: session.remotePort,
      ...(session.clientHostname && !session.clientHostname.startsWith('[')
        ? { reverseName: session.clientHostname }
        : {}),
      localAddress: session.localAddress,
      localPort: session.localPort,
      direction: this.options.submission || this.isTrusted(session) ? 'outbound' : 'inbound',
    });
    const s = newSession(
      session.id,
      conn,
      await conn.connect().catch((err: Error) => {
        this.release(session.remoteAddress);
        throw err;
      }),
    );
    s.address = session.remoteAddress;
    s.connection = this.findConnection(session.id);
    this.sessions.set(session.id, s);
    this.watchdog.watchSocket(s, s.connection?._socket);
    const v = s.connectVerdict;
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
  }

  /** Per-address concurrency and rate: 421 past either limit. */
  private admit(address: string): void {
    const limits = this.options.relay.limits;
    const now = Date.now();
    let e = this.perIp.get(address);
    if (!e) {
      if (this.perIp.size > 100_000) this.sweepPerIp(now);
      e = { open: 0, starts: [] };
      this.perIp.set(address, e);
    }
    e.starts = e.starts.filter((t) => now - t < 60_000);
    if (e.open >= limits.perIpConnections) {
      throw replyError(421, '4.7.0', `${this.options.relay.hostname} Too many connections from your address`);
    }
    if (limits.perIpRate > 0 && e.starts.length >= limits.perIpRate) {
      throw replyError(
        421,
        '4.7.0',
        `${this.options.relay.hostname} Too many connections per minute from your address`,
      );
    }
    if (limits.perIpRate > 0) e.starts.push(now);
    e.open++;
  }

  private sweepPerIp(now: number): void {
    for (const [ip, e] of this.perIp) {
      e.starts = e.starts.filter((t) => now - t < 60_000);
      if (e.open === 0 && e.starts.length === 0) this.perIp.delete(ip);
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
    if (s.client && s.mailSent) {
      // The destination has a transaction open: end it, or drop the connection.
      const r = await s.client.rset().catch(() => undefined);
      if (r?.code !== 250) this.dropClient(s);
    }
    s.mailSent = false;
  }

  private dropClient(s: SessionState): void {
    s.client?.close();
    s.client = undefined;
    s.clientDestination = undefined;
    s.mailSent = false;
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.sessions.get(session.id) as SessionState;
    if (this.draining) throw replyError(421, '4.3.2', `${this.options.relay.hostname} Server shutting down`);
    if (this.options.submission && !this.isTrusted(session)) {
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

  /** Which destination a recipient goes to, or an SMTP error (never an open relay). */
  private route(rcpt: string, session: SMTPServerSession): Route {
    if (hasSenderRouting(rcpt)) throw replyError(550, '5.7.1', `Sender-specified routing refused: <${rcpt}>`);
    const domain = domainOf(rcpt);
    const sub = this.options.submission;
    if (sub) {
      if (!this.isTrusted(session)) throw replyError(530, '5.7.0', 'Authentication required');
      // With MX delivery the next hop is resolved in onRcptTo (asynchronous); it is the key.
      const smarthost = 'smarthost' in sub.next ? sub.next.smarthost : '';
      return {
        key: `out:${smarthost}`,
        destination: smarthost,
        direction: 'outbound',
        domain,
        settings: undefined,
      };
    }
    const settings = domain ? this.options.domains.get(domain) : undefined;
    if (settings) {
      return {
        key: `in:${domain}`,
        destination: settings.destination,
        direction: 'inbound',
        domain,
        settings,
      };
    }
    const out = this.options.relay.outbound;
    if (out && this.isTrusted(session)) {
      return {
        key: `out:${out.smarthost}`,
        destination: out.smarthost,
        direction: 'outbound',
        domain,
        settings: undefined,
      };
    }
    throw replyError(550, '5.7.1', `Relaying to <${rcpt}> denied`);
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.sessions.get(session.id) as SessionState;
    const tx = s.tx;
    const state = s.txState;
    if (!tx || !state) throw replyError(503, '5.5.1', 'MAIL FROM first');
    if (state.accepted.length >= this.options.relay.limits.recipients) {
      throw replyError(452, '4.5.3', 'Too many recipients for this message, send the rest separately');
    }
    const route = this.route(address.address, session);
    const sub = this.options.submission;
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
    const v = await tx.rcptTo(address.address);
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
    await this.ensureClient(s, route);
    const client = s.client as SmtpClient;
    try {
      if (!s.mailSent) {
        const from = tx.context.mailFrom;
        const mr = await client.mail(from?.address ?? '', from?.params ?? {});
        if (mr.code !== 250) throw fromDestination(mr, 'Destination refused the sender');
        s.mailSent = true;
      }
      const rr = await client.rcpt(address.address);
      if (rr.code !== 250 && rr.code !== 251) throw fromDestination(rr, 'Destination refused the recipient');
    } catch (err) {
      if (isReplyError(err)) throw err;
      this.stats.destinationFailures++;
      this.dropClient(s);
      throw replyError(
        451,
        '4.4.1',
        `Destination not reachable now (${(err as Error).message}), try again later`,
      );
    }
    state.accepted.push(address.address);
    s.route = route;
    this.txSettings.set(tx.id, route);
  }

  /** An onward connection to this route's destination, opened or reused (never one to another). */
  private async ensureClient(s: SessionState, route: Route): Promise<void> {
    if (s.client && (s.clientDestination !== route.destination || !s.client.usable)) {
      if (s.txState?.accepted.length) {
        throw replyError(451, '4.4.2', 'Connection to the destination lost, try again later');
      }
      const old = s.client;
      this.dropClient(s);
      void old.quit();
    }
    if (s.client) return;
    const poolKey = `${route.destination} ${route.settings?.tls ?? 'opportunistic'}`;
    const pooled = this.options.pool.take(poolKey);
    if (pooled) {
      s.client = pooled;
      s.clientKey = poolKey;
      s.clientDestination = route.destination;
      s.mailSent = false;
      return;
    }
    const { host, port } = splitHostPort(route.destination);
    try {
      s.client = await SmtpClient.open({
        host,
        port,
        name: this.options.relay.hostname,
        timeout: this.options.relay.destinationTimeout,
        tls: route.settings?.tls ?? 'opportunistic',
      });
    } catch (err) {
      this.stats.destinationFailures++;
      const reply = (err as { reply?: Parameters<typeof fromDestination>[0] }).reply;
      if (reply && reply.code >= 500) throw fromDestination(reply, 'Destination refused the connection');
      throw replyError(
        451,
        '4.4.1',
        `Destination not reachable now (${(err as Error).message}), try again later`,
      );
    }
    s.clientDestination = route.destination;
    s.clientKey = poolKey;
    s.mailSent = false;
    s.client.keepAlive(this.options.relay.destinationKeepalive);
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const s = this.sessions.get(session.id) as SessionState;
    const tx = s.tx;
    const client = s.client;
    const route = s.route;
    if (!tx || !client || !route || !s.txState?.accepted.length) {
      stream.resume();
      throw replyError(503, '5.5.1', 'No valid recipients');
    }
    s.dataStream = stream;
    s.dataStarted = Date.now();
    let verdict: Verdict | undefined;
    let destinationReply: string | undefined;
    let disposition = 'tempfail';
    let finished = false;
    const times: TransactionTimes = { scanMs: 0, destinationMs: 0 };
    const t0 = Date.now();
    try {
      verdict = await tx.data(stream as Readable, { keep: true });
      times.scanMs = Date.now() - t0;
      if (s.closed) throw replyError(421, '4.4.2', 'Client went away');
      if (stream.sizeExceeded) {
        disposition = 'reject';
        throw replyError(552, '5.3.4', 'Message size exceeds fixed limit');
      }
      if (s.txState.hops > this.options.relay.limits.maxHops) {
        disposition = 'reject';
        throw replyError(554, '5.4.6', `Too many hops (${s.txState.hops} Received fields): mail loop?`);
      }
      const out = await deliver({
        tx,
        verdict,
        client,
        route,
        stats: this.stats,
        sender: tx.context.mailFrom,
      });
      finished = true;
      disposition = out.disposition;
      destinationReply = out.destinationReply;
      return out.message;
    } catch (err) {
      if (!isReplyError(err)) {
        this.stats.destinationFailures++;
        this.dropClient(s);
        throw replyError(
          451,
          '4.4.2',
          `Delivery to destination failed (${(err as Error).message}), try again later`,
        );
      }
      if (err.responseCode >= 500) disposition = 'reject';
      throw err;
    } finally {
      s.dataStream = undefined;
      if (!finished && s.client?.usable) {
        // Refused before or during delivery: end the destination's transaction too.
        const r = await s.client.rset().catch(() => undefined);
        if (r?.code !== 250) this.dropClient(s);
      }
      if (s.client && !s.client.usable) this.dropClient(s);
      s.mailSent = false;
      this.record(s, tx, verdict, disposition, destinationReply, times);
      this.txSettings.delete(tx.id);
      s.tx = undefined;
      s.txState = undefined;
      s.route = undefined;
      await tx.dispose();
    }
  }

  private record(
    s: SessionState,
    tx: Transaction,
    verdict: Verdict | undefined,
    disposition: string,
    destinationReply: string | undefined,
    times: TransactionTimes,
  ): void {
    const cb = this.options.onFinished;
    if (!cb) return;
    const ctx = tx.context;
    try {
      cb(
        {
          time: new Date().toISOString(),
          client: ctx.clientAddress,
          ...(ctx.helo ? { helo: ctx.helo } : {}),
          sender: ctx.mailFrom?.address ?? '',
          recipients: [...(s.txState?.accepted ?? [])],
          domain: s.route?.domain ?? '',
          ...(s.txState?.messageId ? { messageId: s.txState.messageId } : {}),
          size: tx.size,
          disposition,
          score: verdict?.score.value ?? 0,
          symbols: verdict?.symbols.map((x) => x.name) ?? [],
          direction: s.route?.direction ?? 'inbound',
          ...(destinationReply ? { destinationReply } : {}),
        },
        times,
        verdict,
      );
    } catch {
      // A failing observer must not change what the sender hears.
    }
  }

  private release(address: string): void {
    const e = this.perIp.get(address);
    if (!e) return;
    if (e.open > 0) e.open--;
    if (e.open === 0 && e.starts.length === 0) this.perIp.delete(address);
  }

  private async closeSession(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    s.closed = true;
    this.release(s.address);
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
    this.dropClient(s);
    await s.conn.close().catch(() => undefined);
  }
}
