import { request } from 'node:http';
import { Readable } from 'node:stream';
import { SpamError } from '../errors.js';

/** Where and how to reach rspamd's normal worker. */
export interface RspamdClientOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 11333. */
  readonly port?: number;
  /** Unix socket path, used instead of host and port when given. */
  readonly socketPath?: string;
  /** Milliseconds for the whole exchange. Default 30,000. */
  readonly scanTimeout?: number;
  /** Largest reply accepted, in bytes. Default 8 MiB. */
  readonly maxResponseBytes?: number;
  /** Password header for the controller-protected setups (sent as `Password`). */
  readonly password?: string;
}

/** The request headers of `/checkv2` that describe the transaction. */
export interface RspamdEnvelope {
  readonly ip?: string;
  readonly helo?: string;
  readonly hostname?: string;
  readonly from?: string;
  readonly rcpt?: readonly string[];
  readonly queueId?: string;
  /** Authenticated user: rspamd then treats the mail as outbound. */
  readonly user?: string;
  /** `all` asks rspamd to run every filter even for authenticated or local mail. */
  readonly pass?: string;
  readonly settingsId?: string;
  /** Any other request header. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** One symbol of the reply, as rspamd gives it. */
export interface RspamdSymbol {
  readonly name: string;
  readonly score: number;
  readonly metricScore: number | undefined;
  readonly options: readonly string[];
  readonly description: string | undefined;
}

/** A header to add, with rspamd's optional position. */
export interface RspamdAddHeader {
  readonly name: string;
  readonly value: string;
  /** rspamd's `order`: a position from 0 inserts there; negative (-1) or undefined appends. */
  readonly order: number | undefined;
}

/** A header to remove: 0 removes every occurrence, n > 0 the n-th, n < 0 the n-th from the end. */
export interface RspamdRemoveHeader {
  readonly name: string;
  readonly index: number;
}

/** The `/checkv2` reply, mapped without loss. */
export interface RspamdResult {
  /** Any action string, custom actions included (`no action`, `add header`, `rewrite subject`, `soft reject`, `reject`, `greylist`...). */
  readonly action: string;
  readonly score: number;
  readonly requiredScore: number;
  readonly symbols: readonly RspamdSymbol[];
  readonly isSkipped: boolean;
  /** `messages.smtp_message`, when given. */
  readonly smtpMessage: string | undefined;
  /** Every entry of `messages`. */
  readonly messages: Readonly<Record<string, string>>;
  /** New subject for `rewrite subject`. */
  readonly subject: string | undefined;
  readonly addHeaders: readonly RspamdAddHeader[];
  readonly removeHeaders: readonly RspamdRemoveHeader[];
  /** rspamd's own error text, when the reply carries one. */
  readonly error: string | undefined;
  readonly messageId: string | undefined;
  /** The parsed JSON, for anything not mapped above. */
  readonly raw: Readonly<Record<string, unknown>>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Maps the JSON of a `/checkv2` reply. Throws a protocol error when it is not such a reply. */
export function parseRspamdReply(json: unknown): RspamdResult {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new SpamError('MEF_SPAM_RSPAMD_PROTOCOL', 'rspamd reply is not a JSON object');
  }
  const o = json as Record<string, unknown>;
  const error = str(o.error);
  if (error === undefined && typeof o.action !== 'string') {
    throw new SpamError('MEF_SPAM_RSPAMD_PROTOCOL', 'rspamd reply has no action');
  }
  const symbols: RspamdSymbol[] = [];
  if (o.symbols && typeof o.symbols === 'object') {
    for (const [key, value] of Object.entries(o.symbols as Record<string, unknown>)) {
      const s = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
      symbols.push({
        name: str(s.name) ?? key,
        score: num(s.score),
        metricScore: typeof s.metric_score === 'number' ? s.metric_score : undefined,
        options: Array.isArray(s.options) ? s.options.map(String) : [],
        description: str(s.description),
      });
    }
  }
  const messages: Record<string, string> = {};
  if (o.messages && typeof o.messages === 'object') {
    for (const [k, v] of Object.entries(o.messages as Record<string, unknown>)) messages[k] = String(v);
  }
  const addHeaders: RspamdAddHeader[] = [];
  const removeHeaders: RspamdRemoveHeader[] = [];
  const milter = (o.milter && typeof o.milter === 'object' ? o.milter : {}) as Record<string, unknown>;
  if (milter.remove_headers && typeof milter.remove_headers === 'object') {
    for (const [name, v] of Object.entries(milter.remove_headers as Record<string, unknown>)) {
      removeHeaders.push({ name, index: Math.trunc(num(v)) });
    }
  }
  if (milter.add_headers && typeof milter.add_headers === 'object') {
    for (const [name, v] of Object.entries(milter.add_headers as Record<string, unknown>)) {
      // A value is a string, {value, order}, or an array of either (several fields of one name).
      for (const item of Array.isArray(v) ? v : [v]) {
        if (typeof item === 'string') addHeaders.push({ name, value: item, order: undefined });
        else if (item && typeof item === 'object') {
          const it = item as Record<string, unknown>;
          addHeaders.push({
            name,
            value: String(it.value ?? ''),
            order: typeof it.order === 'number' ? it.order : undefined,
          });
        }
      }
    }
  }
  return {
    action: str(o.action) ?? '',
    score: num(o.score),
    requiredScore: num(o.required_score),
    symbols,
    isSkipped: o.is_skipped === true,
    smtpMessage: messages.smtp_message,
    messages,
    subject: str(o.subject),
    addHeaders,
    removeHeaders,
    error,
    messageId: str(o['message-id']),
    raw: o,
  };
}

/**
 * A client of rspamd's `/checkv2` over HTTP/1.1. The message is streamed with chunked
 * transfer encoding (rspamd accepts it), so it is never buffered here.
 */
export class RspamdClient {
  readonly options: RspamdClientOptions;

  constructor(options: RspamdClientOptions = {}) {
    this.options = options;
  }

  /** GET /ping: resolves when rspamd answers `pong`. */
  async ping(signal?: AbortSignal): Promise<void> {
    const { status, body } = await this.http('GET', '/ping', {}, undefined, signal);
    if (status !== 200 || !/pong/.test(body.toString())) {
      throw new SpamError(
        'MEF_SPAM_RSPAMD_PROTOCOL',
        `rspamd /ping answered ${status} ${body.toString().slice(0, 80)}`,
      );
    }
  }

  /** POST /checkv2 with the message (bytes or a stream) and the envelope headers. */
  async check(
    message: Buffer | string | Readable | AsyncIterable<Buffer>,
    envelope: RspamdEnvelope = {},
    signal?: AbortSignal,
  ): Promise<RspamdResult> {
    const h: Record<string, string | string[]> = {};
    if (envelope.ip) h.IP = envelope.ip;
    if (envelope.helo) h.Helo = envelope.helo;
    if (envelope.hostname) h.Hostname = envelope.hostname;
    if (envelope.from !== undefined) h.From = envelope.from;
    if (envelope.rcpt?.length) h.Rcpt = [...envelope.rcpt];
    if (envelope.queueId) h['Queue-Id'] = envelope.queueId;
    if (envelope.user) h.User = envelope.user;
    if (envelope.pass) h.Pass = envelope.pass;
    if (envelope.settingsId) h['Settings-ID'] = envelope.settingsId;
    for (const [k, v] of Object.entries(envelope.extra ?? {})) h[k] = v;
    if (this.options.password) h.Password = this.options.password;
    const { status, body } = await this.http('POST', '/checkv2', h, message, signal);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new SpamError(
        'MEF_SPAM_RSPAMD_PROTOCOL',
        `rspamd answered ${status} with a body that is not JSON: ${JSON.stringify(body.toString('utf8').slice(0, 80))}`,
      );
    }
    if (status !== 200) {
      const err = json && typeof json === 'object' ? str((json as Record<string, unknown>).error) : undefined;
      throw new SpamError('MEF_SPAM_RSPAMD_PROTOCOL', `rspamd answered ${status}${err ? `: ${err}` : ''}`);
    }
    return parseRspamdReply(json);
  }

  private http(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string | string[]>,
    body: Buffer | string | Readable | AsyncIterable<Buffer> | undefined,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: Buffer }> {
    const o = this.options;
    const timeout = o.scanTimeout ?? 30_000;
    const maxBytes = o.maxResponseBytes ?? 8 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, value?: { status: number; body: Buffer }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          if (source && !source.destroyed) source.unpipe(req);
          reject(err);
        } else resolve(value as { status: number; body: Buffer });
      };
      const req = request({
        ...(o.socketPath
          ? { socketPath: o.socketPath }
          : { host: o.host ?? '127.0.0.1', port: o.port ?? 11333 }),
        method,
        path,
        headers: { ...headers, Connection: 'close' },
        agent: false,
      });
      let source: Readable | undefined;
      const timer = setTimeout(
        () =>
          finish(
            new SpamError('MEF_SPAM_RSPAMD_TIMEOUT', `rspamd did not answer ${path} within ${timeout} ms`),
          ),
        timeout,
      );
      const onAbort = () =>
        finish(new SpamError('MEF_SPAM_RSPAMD_TIMEOUT', `rspamd ${path} aborted`, { cause: signal?.reason }));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) =>
        finish(
          new SpamError('MEF_SPAM_RSPAMD_UNAVAILABLE', `rspamd connection failed: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > maxBytes) {
            finish(new SpamError('MEF_SPAM_RSPAMD_PROTOCOL', `rspamd reply exceeds ${maxBytes} bytes`));
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) =>
          finish(
            new SpamError('MEF_SPAM_RSPAMD_UNAVAILABLE', `rspamd reply broke off: ${err.message}`, {
              cause: err,
            }),
          ),
        );
        res.on('aborted', () =>
          finish(new SpamError('MEF_SPAM_RSPAMD_UNAVAILABLE', 'rspamd reply broke off')),
        );
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else {
        source = body instanceof Readable ? body : Readable.from(body);
        source.on('error', (err) =>
          finish(
            new SpamError('MEF_SPAM_RSPAMD_UNAVAILABLE', `message source failed: ${err.message}`, {
              cause: err,
            }),
          ),
        );
        source.pipe(req);
      }
    });
  }
}
