import { createServer, type Server, type Socket } from 'node:net';

/**
 * A destination that misbehaves in ways a real server cannot be made to: it answers each
 * command through `answer`, which may send extra replies or stop reading. Used only for the
 * garbage, hang and reset cases.
 */
export interface FakeDestination {
  port: number;
  /** Bytes received after DATA's 354. */
  body(): string;
  stop(): Promise<void>;
}

export async function fakeDestination(
  answer: (command: string, socket: Socket) => string | undefined,
): Promise<FakeDestination> {
  let body = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    let inData = false;
    let buf = '';
    socket.write('220 fake.test ESMTP\r\n');
    socket.on('data', (d: string) => {
      buf += d;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end === -1) {
            body += buf;
            buf = '';
            return;
          }
          body += buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          const r = answer('.', socket);
          if (r) socket.write(r);
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const r = answer(line, socket);
        if (r) socket.write(r);
        if (/^DATA/i.test(line) && r?.startsWith('354')) inData = true;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    body: () => body,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The ordinary answers of a well-behaved server. */
export function ordinary(line: string): string {
  const verb = line.slice(0, 4).toUpperCase();
  if (verb === 'EHLO') return '250-fake.test\r\n250 8BITMIME\r\n';
  if (verb === 'DATA') return '354 go ahead\r\n';
  if (verb === 'QUIT') return '221 bye\r\n';
  return '250 ok\r\n';
}
