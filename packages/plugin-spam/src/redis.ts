import { SpamError, type SpamErrorCode } from './errors.js';

/** A connected ioredis client made from a `redis://` URL (ioredis is a peer dependency). */
export async function connectRedis<T>(url: string, what: string, code: SpamErrorCode): Promise<T> {
  let mod: { default: new (url: string, o: object) => T };
  try {
    mod = (await import('ioredis')) as unknown as typeof mod;
  } catch (err) {
    throw new SpamError(code, `${what} with a url needs the ioredis package`, { cause: err });
  }
  const c = new mod.default(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
  // Connection errors surface on the commands (as store errors), not as events.
  (c as unknown as { on?: (e: string, f: () => void) => void }).on?.('error', () => undefined);
  return c;
}
