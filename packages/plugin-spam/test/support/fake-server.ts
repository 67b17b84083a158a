import { createServer, type Server, type Socket } from 'node:net';

/** A fake TCP server for what a real one cannot do: garbage, hangs, resets. */
export async function fakeServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Reads until `marker` has been seen (or the peer half-closes), then calls `then`. */
export function afterRequest(socket: Socket, then: () => void, marker = '\r\n\r\n'): void {
  let seen = '';
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    then();
  };
  socket.on('data', (d) => {
    seen += d.toString('latin1');
    if (seen.includes(marker)) go();
  });
  socket.on('end', go);
}
