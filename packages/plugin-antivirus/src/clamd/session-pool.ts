import type net from 'node:net';
import type { ClamdAddress } from './connection.js';

/** A kept clamd connection in IDSESSION mode. */
export interface KeptConnection {
  readonly socket: net.Socket;
  readonly address: ClamdAddress;
  /** Commands sent on this connection so far (clamd numbers its replies with it). */
  requests: number;
  /** The listener that retires it while it waits unused in the pool. */
  onIdleEvent?: (() => void) | undefined;
}

const IDLE_EVENTS = ['data', 'end', 'close', 'error', 'timeout'] as const;

/**
 * The unused IDSESSION connections of one client, most recently used last. A connection is
 * kept only after a clean reply, and anything clamd does while it waits (its IdleTimeout, a
 * restart) retires it.
 */
export class SessionPool {
  private readonly idle: KeptConnection[] = [];

  constructor(
    /** Close a kept connection after this long unused (ms). */
    private readonly idleMs: number,
    /** Most unused connections kept. */
    private readonly max: number,
  ) {}

  /** Connections waiting unused. */
  get size(): number {
    return this.idle.length;
  }

  /** Takes a kept connection that is still open, or opens one with `open` and starts its session. */
  async acquire(open: () => Promise<{ socket: net.Socket; address: ClamdAddress }>): Promise<KeptConnection> {
    while (this.idle.length > 0) {
      const conn = this.idle.pop() as KeptConnection;
      this.unpark(conn);
      if (!conn.socket.destroyed && conn.socket.readyState === 'open') return conn;
      conn.socket.destroy();
    }
    const { socket, address } = await open();
    socket.write('zIDSESSION\0');
    return { socket, address, requests: 0 };
  }

  /** Puts a connection back after a clean reply, or ends its session. */
  release(conn: KeptConnection, reusable: boolean): void {
    if (!reusable || this.idle.length >= this.max || conn.socket.destroyed) {
      endSession(conn);
      return;
    }
    const retire = () => {
      const i = this.idle.indexOf(conn);
      if (i !== -1) this.idle.splice(i, 1);
      this.unpark(conn);
      endSession(conn);
    };
    conn.onIdleEvent = retire;
    for (const event of IDLE_EVENTS) conn.socket.on(event, retire);
    conn.socket.setTimeout(this.idleMs);
    conn.socket.unref();
    this.idle.push(conn);
  }

  /** Closes every kept connection. */
  close(): void {
    for (const conn of this.idle.splice(0)) {
      this.unpark(conn);
      conn.socket.destroy();
    }
  }

  private unpark(conn: KeptConnection): void {
    const listener = conn.onIdleEvent;
    if (listener) {
      for (const event of IDLE_EVENTS) conn.socket.off(event, listener);
      conn.onIdleEvent = undefined;
    }
    conn.socket.setTimeout(0);
    conn.socket.ref();
  }
}

function endSession(conn: KeptConnection): void {
  const { socket } = conn;
  socket.on('error', () => {});
  if (!socket.destroyed && socket.writable) socket.end('zEND\0');
  setTimeout(() => socket.destroy(), 1000).unref();
}
