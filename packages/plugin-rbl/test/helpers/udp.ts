import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket on 127.0.0.1 that receives queries and never answers. */
export interface SilentServer {
  readonly port: number;
  /** Datagrams received. */
  readonly received: number;
  close(): Promise<void>;
}

export function silentServer(): Promise<SilentServer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    let received = 0;
    s.on('message', () => {
      received++;
    });
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      resolve({
        port: s.address().port,
        get received() {
          return received;
        },
        close: () => new Promise<void>((r) => s.close(() => r())),
      });
    });
  });
}

/** A UDP proxy in front of a DNS server that counts the queries it forwards, by name. */
export interface CountingProxy {
  readonly port: number;
  /** Queries forwarded. */
  readonly count: number;
  /** Query names forwarded, in order (lower case). */
  readonly names: readonly string[];
  /** Most queries waiting for an upstream answer at one time. */
  readonly maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

/** The query name of a DNS message (no compression in questions). */
function questionName(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length) {
    const len = msg[i] ?? 0;
    if (len === 0) break;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += len + 1;
  }
  return labels.join('.').toLowerCase();
}

/** `delay` holds each answer back that many ms (a slow list); `drop` loses the first N queries (UDP loss). */
export function countingProxy(
  upstreamPort: number,
  options: { delay?: number; drop?: number } = {},
): Promise<CountingProxy> {
  return new Promise((resolve, reject) => {
    const front: Socket = createSocket('udp4');
    const names: string[] = [];
    const upstreams = new Set<Socket>();
    const timers = new Set<NodeJS.Timeout>();
    let closed = false;
    let maxInFlight = 0;
    front.on('message', (msg, rinfo) => {
      names.push(questionName(msg));
      if (names.length <= (options.drop ?? 0)) return;
      maxInFlight = Math.max(maxInFlight, upstreams.size + 1);
      // One upstream socket per query keeps the reply path simple.
      const up = createSocket('udp4');
      upstreams.add(up);
      up.on('message', (reply) => {
        const answer = () => {
          // A delayed answer may come due after the proxy was closed: then it is dropped.
          if (!closed) front.send(reply, rinfo.port, rinfo.address);
          up.close();
          upstreams.delete(up);
        };
        if (options.delay) {
          const t = setTimeout(() => {
            timers.delete(t);
            answer();
          }, options.delay);
          timers.add(t);
        } else answer();
      });
      up.send(msg, upstreamPort, '127.0.0.1');
    });
    front.once('error', reject);
    front.bind(0, '127.0.0.1', () => {
      resolve({
        port: front.address().port,
        get count() {
          return names.length;
        },
        names,
        get maxInFlight() {
          return maxInFlight;
        },
        reset() {
          names.length = 0;
          maxInFlight = 0;
        },
        close: () =>
          new Promise<void>((r) => {
            closed = true;
            for (const t of timers) clearTimeout(t);
            timers.clear();
            for (const u of upstreams) u.close();
            front.close(() => r());
          }),
      });
    });
  });
}
