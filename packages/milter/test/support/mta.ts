/** The MTA side of the milter protocol, for driving a session frame by frame in tests. */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, joinStrings } from '../../src/index.js';
import type { Frame } from '../../src/protocol.js';

export class MtaClient {
  private readonly decoder = new FrameDecoder();
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.frames.push(...this.decoder.push(d));
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(port: number): Promise<MtaClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new MtaClient(s)));
      s.once('error', reject);
    });
  }

  /** Writes raw bytes (frames may be split or joined by the caller). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for `n` reply frames (or the close), within `ms`. */
  async take(n: number, ms = 5000): Promise<Frame[]> {
    const until = Date.now() + ms;
    while (this.frames.length < n && !this.closed) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`expected ${n} replies, got ${this.frames.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.splice(0, n);
  }

  /** Replies received and not yet taken. */
  get queued(): number {
    return this.frames.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function optneg(version: number, actions: number, protocol: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(version, 0);
  b.writeUInt32BE(actions, 4);
  b.writeUInt32BE(protocol, 8);
  return encodeFrame('O', b);
}

export function connectFrame(host: string, ip: string, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port, 0);
  return encodeFrame('C', Buffer.concat([joinStrings(host), Buffer.from('4'), p, joinStrings(ip)]));
}

export const frame = (cmd: string, ...strings: string[]) => encodeFrame(cmd, joinStrings(...strings));
