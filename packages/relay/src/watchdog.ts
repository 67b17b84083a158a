import type { Socket } from 'node:net';
import type { RelaySection } from './schema.js';
import type { RelayStats, SessionState } from './session.js';

/**
 * Session limits smtp-server does not have. Its idle timeout is reset by every byte, so a
 * client trickling one byte a second (slowloris) would stay forever; here a command line must
 * end within `commandTime`, a DATA upload within `dataTime`, and a session within `sessionTime`.
 * One timer sweeps every session once a second.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private limits: RelaySection['limits'],
    private readonly sessions: ReadonlyMap<string, SessionState>,
    private readonly stats: RelayStats,
  ) {}

  /** Notes when each command line ends on this socket (plain, or the TLS socket after STARTTLS). */
  watchSocket(s: SessionState | undefined, socket: Socket | undefined): void {
    if (!s || !socket) return;
    socket.on('data', (chunk: Buffer | string) => {
      if (chunk.includes(10 as never)) s.lastLine = Date.now();
    });
  }

  /** New limits (a reload); the sweep interval stays. */
  setLimits(limits: RelaySection['limits']): void {
    this.limits = limits;
  }

  start(): void {
    if (this.timer) return;
    const every = Math.max(50, Math.min(1_000, Math.floor(this.limits.commandTime / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      let why: string | undefined;
      if (now - s.started > this.limits.sessionTime) why = 'Session too long';
      else if (s.dataStream && !s.dataStream.readableEnded && now - s.dataStarted > this.limits.dataTime) {
        why = 'DATA too slow';
      } else if (!s.dataStream && s.busy === 0 && now - s.lastLine > this.limits.commandTime) {
        why = 'Command too slow';
      }
      if (!why || !s.connection) continue;
      this.stats.timeouts++;
      const c = s.connection;
      s.connection = undefined;
      if (s.dataStream) s.dataStream.destroy(new Error(why));
      c.send(421, `4.4.2 ${why}, closing connection`);
      c.close();
      // A client that does not read our 421 must not keep the socket either.
      setTimeout(() => c._socket.destroy(), 2_000).unref();
    }
  }
}
