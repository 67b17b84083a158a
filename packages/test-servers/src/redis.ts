/** A private Redis on loopback with no persistence. */
import { spawn } from 'node:child_process';
import { answers } from './probes.js';
import { freePort, outputTail, type RunningServer, readyInDir, requireBinary, tempDir } from './process.js';

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
  const ready = await readyInDir('redis', child, dir, () => answers(port, 'PING\r\n', /PONG/, 300), {
    timeoutMs: options.startTimeoutMs ?? 15_000,
    intervalMs: 100,
    log: outputTail(child),
  });
  return { host: '127.0.0.1', port, ...ready };
}
