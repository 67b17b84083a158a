/** A fake clamd for what a real one cannot be made to do: garbage, hangs, resets. */
import net from 'node:net';

export interface FakeClamd {
  readonly port: number;
  /** Payload bytes received over all connections (INSTREAM framing removed). */
  received: number;
  close(): Promise<void>;
}

export type FakeBehaviour = (
  socket: net.Socket,
  events: { onTerminator(cb: () => void): void; onBytes(cb: (n: number) => void): void },
) => void;

/** Parses INSTREAM framing so a behaviour can act on the terminator or after N bytes. */
export async function fakeClamd(behaviour: FakeBehaviour): Promise<FakeClamd> {
  const sockets = new Set<net.Socket>();
  const state = { received: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let command = true;
    let need = -1;
    const terminators: Array<() => void> = [];
    const byteWatchers: Array<(n: number) => void> = [];
    let total = 0;
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (command) {
          const nul = buf.indexOf(0);
          if (nul === -1) return;
          const name = buf.subarray(0, nul).toString('latin1');
          buf = buf.subarray(nul + 1);
          // IDSESSION is followed by the real command.
          if (name !== 'zIDSESSION') command = false;
          continue;
        }
        if (need === -1) {
          if (buf.length < 4) return;
          need = buf.readUInt32BE(0);
          buf = buf.subarray(4);
          if (need === 0) {
            need = -1;
            for (const t of terminators) t();
            return;
          }
        }
        const take = Math.min(need, buf.length);
        if (take === 0) return;
        buf = buf.subarray(take);
        need -= take;
        total += take;
        state.received += take;
        for (const w of byteWatchers) w(total);
        if (need === 0) need = -1;
      }
    });
    behaviour(socket, {
      onTerminator: (cb) => terminators.push(cb),
      onBytes: (cb) => byteWatchers.push(cb),
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    get received() {
      return state.received;
    },
    set received(v: number) {
      state.received = v;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
