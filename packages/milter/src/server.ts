import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { MilterOptions } from './options.js';
import { MilterSession } from './session.js';

/** Where a milter listens: a TCP address or a unix socket path. */
export type MilterListen =
  | { readonly host?: string | undefined; readonly port: number }
  | { readonly path: string };

/**
 * A milter server: one session per MTA connection, each running the engine. Postfix points at
 * it with `smtpd_milters = inet:HOST:PORT` (or `unix:PATH`) and `milter_protocol = 6`.
 */
export class MilterServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: MilterOptions) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      new MilterSession(socket, options);
    });
  }

  /** Open MTA connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Starts the engine, then listens. Resolves with the port (TCP; useful with port 0) or the
   * socket path.
   */
  async listen(where: MilterListen): Promise<number | string> {
    await this.options.engine.start();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : String(a));
      };
      if ('path' in where) {
        // A socket file left by a process that died would make listen fail with EADDRINUSE.
        if (existsSync(where.path)) unlinkSync(where.path);
        this.server.listen(where.path, done);
      } else {
        this.server.listen(where.port, where.host ?? '127.0.0.1', done);
      }
    });
  }

  /**
   * Stops accepting connections and closes the open ones (the MTA then applies its
   * `milter_default_action` to the sessions in progress). The engine is left running.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

/** Creates a milter server over an engine. */
export function createMilterServer(options: MilterOptions): MilterServer {
  return new MilterServer(options);
}
