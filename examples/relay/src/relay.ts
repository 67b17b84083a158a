import { isIPv4, isIPv6 } from 'node:net';
import type { Readable } from 'node:stream';
import {
  type Connection,
  createEngine,
  type Engine,
  type EngineOptions,
  type Plugin,
  type Transaction,
  toSmtpReply,
  type Verdict,
} from '@mef/core';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { DomainConfig, RelayConfig } from './config.js';
import { SmtpClient, SmtpClientError, type SmtpReply } from './smtp-client.js';

/** An error smtp-server turns into a reply: the code, and the enhanced code in the text. */
function replyError(code: number, enhanced: string, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}

function fromVerdict(v: Verdict): Error & { responseCode: number } {
  const r = toSmtpReply(v);
  return replyError(r.code, r.enhanced, r.lines.join(' '));
}

function fromDestination(r: SmtpReply, what: string): Error & { responseCode: number } {
  const cls = Math.floor(r.code / 100);
  const code = cls === 5 ? r.code : 451;
  const enhanced =
    r.enhanced && r.enhanced[0] === String(cls === 5 ? 5 : 4) ? r.enhanced : cls === 5 ? '5.0.0' : '4.4.0';
  return replyError(code, enhanced, `${what}: ${r.lines.join(' ')}`.slice(0, 400));
}

/** Parses `10.0.0.0/8`, `192.0.2.1`, `2001:db8::/32`. */
function inNetworks(ip: string, networks: readonly string[]): boolean {
  const v4 = (a: string) => a.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  const v6 = (a: string) => {
    const [head, tail] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
  };
  const addr = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  for (const net of networks) {
    const [base, bitsText] = net.split('/');
    if (!base) continue;
    if (isIPv4(addr) && isIPv4(base)) {
      const bits = BigInt(bitsText ?? 32);
      const mask = ((1n << 32n) - 1n) ^ ((1n << (32n - bits)) - 1n);
      if ((v4(addr) & mask) === (v4(base) & mask)) return true;
    } else if (isIPv6(addr) && isIPv6(base)) {
      const bits = BigInt(bitsText ?? 128);
      const mask = ((1n << 128n) - 1n) ^ ((1n << (128n - bits)) - 1n);
      if ((v6(addr) & mask) === (v6(base) & mask)) return true;
    }
  }
  return false;
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new TypeError(`Invalid destination ${JSON.stringify(s)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

interface SessionState {
  conn: Connection;
  connectVerdict: Verdict;
  heloDone: boolean;
  tx: Transaction | undefined;
  /** The destination of this transaction, fixed by its first recipient. */
  destination: string | undefined;
  domain: DomainConfig | undefined;
  client: SmtpClient | undefined;
  mailSent: boolean;
}

/** Counters a host can export (prom-client or a log line). */
export interface RelayStats {
  connections: number;
  accepted: number;
  rejected: number;
  tempfailed: number;
  discarded: number;
  destinationFailures: number;
}

export interface RelayOptions {
  config: RelayConfig;
  /** The stages to run (plugins from @mef/plugin-* or your own). */
  plugins: readonly Plugin[];
  /** Engine options; `policy` is set by the relay from the per-domain settings. */
  engine?: Omit<EngineOptions, 'policy'>;
}

/**
 * Builds the engine with per-domain policy: a transaction takes the thresholds and monitor
 * mode of its recipients' domain (inbound), layered over the engine's defaults.
 */
export function createRelayEngine(options: RelayOptions): Engine {
  const { config } = options;
  const engine = createEngine({
    ...(options.engine ?? {}),
    limits: { maxMessageBytes: config.maxMessageBytes, ...(options.engine?.limits ?? {}) },
    policy: (tx) => {
      const rcpt = tx.recipients[0]?.address;
      const domain = rcpt ? config.domains[rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase()] : undefined;
      if (!domain) return undefined;
      const base = { reject: 15, addHeader: 6, greylist: 4, ...(options.engine?.thresholds ?? {}) };
      const t = domain.thresholds ?? {};
      return {
        monitor: domain.monitor,
        thresholds: {
          reject: t.reject !== undefined ? t.reject : base.reject,
          addHeader: t.addHeader !== undefined ? t.addHeader : base.addHeader,
          greylist: t.greylist !== undefined ? t.greylist : base.greylist,
        },
      };
    },
  });
  for (const p of options.plugins) engine.use(p);
  return engine;
}

/**
 * The filtering relay: no storage, no loss. Each RCPT is passed to the destination as it
 * comes, so the sender gets the destination's own answer; the message is scanned once while
 * it streams in, kept only for the length of the transaction, forwarded with the verdict's
 * header changes, and the sender hears 250 only after the destination accepted it.
 */
export class Relay {
  readonly server: SMTPServer;
  readonly stats: RelayStats = {
    connections: 0,
    accepted: 0,
    rejected: 0,
    tempfailed: 0,
    discarded: 0,
    destinationFailures: 0,
  };
  private readonly sessions = new Map<string, SessionState>();
  private readonly config: RelayConfig;
  private readonly engine: Engine;

  constructor(options: RelayOptions) {
    this.config = options.config;
    this.engine = createRelayEngine(options);
    this.server = new SMTPServer({
      name: this.config.hostname,
      banner: 'MEF filtering relay',
      size: this.config.maxMessageBytes,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onConnect: (session, cb) => {
        this.onConnect(session).then(
          () => cb(),
          (err: Error) => cb(err),
        );
      },
      onMailFrom: (address, session, cb) => {
        this.onMailFrom(address, session).then(
          () => cb(),
          (err: Error) => cb(err),
        );
      },
      onRcptTo: (address, session, cb) => {
        this.onRcptTo(address, session).then(
          () => cb(),
          (err: Error) => cb(err),
        );
      },
      onData: (stream, session, cb) => {
        this.onData(stream, session).then(
          (msg) => cb(null, msg),
          (err: Error) => cb(err),
        );
      },
      onClose: (session) => {
        void this.onClose(session);
      },
    });
    this.server.on('error', () => {
      // Connection-level errors (a client that resets) are the client's problem, not the relay's.
    });
  }

  /** Starts listening; resolves with the bound port. */
  async listen(port = this.config.listen.port, host = this.config.listen.host): Promise<number> {
    await this.engine.start();
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    const addr = this.server.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /** Stops accepting, closes sessions, stops the engine. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const id of [...this.sessions.keys()]) await this.closeSession(id);
    await this.engine.stop();
  }

  private state(session: SMTPServerSession): SessionState {
    const s = this.sessions.get(session.id);
    if (!s) throw replyError(421, '4.3.0', 'Session state lost, try again');
    return s;
  }

  private async onConnect(session: SMTPServerSession): Promise<void> {
    this.stats.connections++;
    const conn = this.engine.connection({
      id: session.id,
      clientAddress: session.remoteAddress,
      clientPort: session.remotePort,
      ...(session.clientHostname && !session.clientHostname.startsWith('[')
        ? { reverseName: session.clientHostname }
        : {}),
      localAddress: session.localAddress,
      localPort: session.localPort,
    });
    const v = await conn.connect();
    this.sessions.set(session.id, {
      conn,
      connectVerdict: v,
      heloDone: false,
      tx: undefined,
      destination: undefined,
      domain: undefined,
      client: undefined,
      mailSent: false,
    });
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
  }

  private async resetTransaction(s: SessionState): Promise<void> {
    if (s.tx) await s.tx.dispose();
    s.tx = undefined;
    s.destination = undefined;
    s.domain = undefined;
    s.mailSent = false;
    if (s.client) {
      const c = s.client;
      s.client = undefined;
      await c.quit();
    }
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    if (!s.heloDone && session.hostNameAppearsAs) {
      s.heloDone = true;
      const hv = await s.conn.helo(session.hostNameAppearsAs);
      if (hv.disposition === 'reject' || hv.disposition === 'tempfail') throw fromVerdict(hv);
    }
    await this.resetTransaction(s);
    s.tx = s.conn.transaction();
    const params: Record<string, string | true> = {};
    for (const [k, v] of Object.entries(address.args || {})) params[k] = v === true ? true : String(v);
    const v = await s.tx.mailFrom(address.address, params);
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);
  }

  /** Which destination a recipient goes to, or an SMTP error (never an open relay). */
  private route(rcpt: string, session: SMTPServerSession): { destination: string; domain?: DomainConfig } {
    const domainName = rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase();
    const domain = this.config.domains[domainName];
    if (domain) return { destination: domain.destination, domain };
    const out = this.config.outbound;
    if (out && (session.user !== undefined || inNetworks(session.remoteAddress, out.networks))) {
      return { destination: out.smarthost };
    }
    throw replyError(550, '5.7.1', `Relaying to <${rcpt}> denied`);
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = this.state(session);
    if (!s.tx) throw replyError(503, '5.5.1', 'MAIL FROM first');
    const route = this.route(address.address, session);
    if (s.destination !== undefined && s.destination !== route.destination) {
      // One transaction goes to one destination, so one DATA reply is true for every recipient.
      throw replyError(452, '4.5.3', 'Too many recipients for this transaction, send the rest separately');
    }
    const v = await s.tx.rcptTo(address.address);
    if (v.disposition === 'reject' || v.disposition === 'tempfail') throw fromVerdict(v);

    try {
      if (!s.client) {
        const { host, port } = splitHostPort(route.destination);
        s.client = await SmtpClient.open({
          host,
          port,
          name: this.config.hostname,
          timeout: this.config.destinationTimeout,
        });
      }
      if (!s.mailSent) {
        const from = s.tx.context.mailFrom!;
        const mr = await s.client.mail(from.address, from.params as Record<string, string | true>);
        if (mr.code !== 250) throw fromDestination(mr, 'Destination refused the sender');
        s.mailSent = true;
      }
      const rr = await s.client.rcpt(address.address);
      if (rr.code !== 250 && rr.code !== 251) throw fromDestination(rr, 'Destination refused the recipient');
    } catch (err) {
      if ((err as { responseCode?: number }).responseCode) throw err;
      this.stats.destinationFailures++;
      if (s.client && !s.mailSent) {
        s.client.close();
        s.client = undefined;
      }
      throw replyError(
        451,
        '4.4.1',
        `Destination not reachable now (${(err as Error).message}), try again later`,
      );
    }
    s.destination = route.destination;
    if (route.domain) s.domain = route.domain;
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const s = this.state(session);
    const tx = s.tx;
    const client = s.client;
    if (!tx || !client) {
      stream.resume();
      throw replyError(503, '5.5.1', 'No valid recipients');
    }
    const verdict = await tx.data(stream as Readable, { keep: true });
    if (stream.sizeExceeded) {
      // smtp-server answers 552 itself; the destination transaction is abandoned.
      await client.rset().catch(() => undefined);
      throw replyError(552, '5.3.4', 'Message size exceeds fixed limit');
    }
    try {
      switch (verdict.disposition) {
        case 'reject':
          this.stats.rejected++;
          await client.rset().catch(() => undefined);
          throw fromVerdict(verdict);
        case 'tempfail':
          this.stats.tempfailed++;
          await client.rset().catch(() => undefined);
          throw fromVerdict(verdict);
        case 'discard':
          this.stats.discarded++;
          await client.rset().catch(() => undefined);
          return `2.0.0 Ok: ${tx.id}`;
        default: {
          // accept or quarantine: the relay stores nothing, so quarantine is delivered tagged.
          const reply = await client.data(tx.output());
          if (reply.code !== 250) {
            this.stats.destinationFailures++;
            throw fromDestination(reply, 'Destination did not accept the message');
          }
          this.stats.accepted++;
          return `2.0.0 Ok: ${tx.id} delivered to destination (${reply.lines.join(' ').slice(0, 200)})`;
        }
      }
    } catch (err) {
      if ((err as { responseCode?: number }).responseCode) throw err;
      this.stats.destinationFailures++;
      const what = err instanceof SmtpClientError ? err.message : String(err);
      throw replyError(451, '4.4.2', `Delivery to destination failed (${what}), try again later`);
    } finally {
      // A new MAIL FROM starts over; this transaction's copy of the message is gone now.
      s.mailSent = false;
      s.destination = undefined;
      await tx.dispose();
      s.tx = undefined;
    }
  }

  private async onClose(session: SMTPServerSession): Promise<void> {
    await this.closeSession(session.id);
  }

  private async closeSession(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await this.resetTransaction(s).catch(() => undefined);
    await s.conn.close().catch(() => undefined);
  }
}
