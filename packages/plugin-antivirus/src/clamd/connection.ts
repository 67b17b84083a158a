import net from 'node:net';
import { AntivirusError } from '../errors.js';

/** A clamd address: TCP on a host and port, or a unix socket path. */
export type ClamdAddress = { readonly host: string; readonly port: number } | { readonly path: string };

/** A reply longer than this is garbage, not clamd. */
export const MAX_REPLY = 64 * 1024;

/** Describes an address for messages and symbols. */
export function describeAddress(a: ClamdAddress): string {
  return 'path' in a ? `unix:${a.path}` : `${a.host}:${a.port}`;
}

/** The system error code of a socket error (`ECONNRESET`), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/** The error a scan ends with when its caller's signal aborts it. */
export function abortError(signal: AbortSignal): AntivirusError {
  return new AntivirusError('MEF_AV_CLAMD_TIMEOUT', 'clamd scan aborted', {
    kind: 'timeout',
    cause: signal.reason,
  });
}

/** Opens one connection to one clamd, within `connectTimeout` ms. */
export function connectOnce(
  addr: ClamdAddress,
  connectTimeout: number,
  signal?: AbortSignal,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const socket =
      'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(
        new AntivirusError(
          'MEF_AV_CLAMD_UNAVAILABLE',
          `Cannot connect to clamd at ${describeAddress(addr)}: ${errnoOf(err) ?? err.message}`,
          { kind: 'unavailable', cause: err },
        ),
      );
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(
        new AntivirusError(
          'MEF_AV_CLAMD_TIMEOUT',
          `Connecting to clamd at ${describeAddress(addr)} took more than ${connectTimeout} ms`,
          { kind: 'timeout' },
        ),
      );
    }, connectTimeout);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
