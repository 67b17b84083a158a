/** A private Redis on loopback with no persistence. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { answers } from './probes.js';
import {
  freePort,
  outputTail,
  type RunningServer,
  requireBinary,
  stopChild,
  tempDir,
  waitReady,
} from './process.js';

export interface RedisServer extends RunningServer {
  readonly pid: number;
  readonly dir: string;
}

/** Starts redis-server; resolves once it answers PING. */
export async function startRedis(options: { readonly startTimeoutMs?: number } = {}): Promise<RedisServer> {
  const bin = requireBinary('redis-server', 'redis-server');
  const dir = tempDir('redis');
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await waitReady('redis', child, () => answers(port, 'PING\r\n', /PONG/, 300), {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 100,
      log: outputTail(child),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    pid: child.pid ?? 0,
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
