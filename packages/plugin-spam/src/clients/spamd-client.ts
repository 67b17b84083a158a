import { connect, type Socket } from 'node:net';
import { SpamError } from '../errors.js';

/** Where and how to reach spamd. */
export interface SpamdClientOptions {
  /** Host of spamd's TCP socket. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port. Default 783. */
  readonly port?: number;
  /** Unix socket path; used instead of host and port when given. */
  readonly socketPath?: string;
  /** Milliseconds for the whole exchange (connect, send, answer). Default 30,000. */
  readonly scanTimeout?: number;
  /** Largest answer accepted, in bytes (PROCESS returns the whole message). Default 32 MiB. */
  readonly maxResponseBytes?: number;
}

/** The SPAMC/1.5 commands this client speaks. */
export type SpamdCommand = 'CHECK' | 'SYMBOLS' | 'REPORT' | 'REPORT_IFSPAM' | 'PROCESS' | 'PING' | 'TELL';

/** One rule from a REPORT answer. */
export interface SpamdRule {
  readonly name: string;
  readonly score: number;
  readonly description: string;
}

/** A parsed spamd answer. */
export interface SpamdResult {
  /** Protocol version of the answer, such as `1.1`. */
  readonly version: string;
  /** `Spam: True ; 1001.3 / 5.0` as data (absent for PING and TELL). */
  readonly spam: boolean;
  readonly score: number;
  readonly threshold: number;
  /** Rule names (SYMBOLS), or the names of the REPORT rules. */
  readonly symbols: readonly string[];
  /** Rules with scores (REPORT, REPORT_IFSPAM). */
  readonly rules: readonly SpamdRule[];
  /** The text report (REPORT) or the rewritten message (PROCESS). */
  readonly body: Buffer;
  /** Answer headers, names lower-case. */
  readonly headers: Readonly<Record<string, string>>;
}

/** TELL options: learn as spam or ham into the local database, or remove. */
export interface TellOptions {
  readonly messageClass: 'spam' | 'ham';
  /** `learn` sets (Set: local), `forget` removes (Remove: local). Default `learn`. */
  readonly action?: 'learn' | 'forget';
  readonly user?: string;
}

const REPORT_LINE = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_.]+)\s+(.*)$/;

/** Parses the rule table of a REPORT body. */
export function parseSpamdReport(text: string): SpamdRule[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^-{3,}\s+-{3,}/.test(l));
  if (start === -1) return [];
  const rules: SpamdRule[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') {
      if (rules.length) break;
      continue;
    }
    const m = REPORT_LINE.exec(line);
    if (m) {
      rules.push({ name: m[2] as string, score: Number(m[1]), description: (m[3] ?? '').trim() });
    } else if (/^\s+\S/.test(line) && rules.length) {
      // A description continued on the next line.
      const last = rules.pop() as SpamdRule;
      rules.push({ ...last, description: `${last.description} ${line.trim()}` });
    } else break;
  }
  return rules;
}

/**
 * A SpamAssassin `spamd` client over SPAMC/1.5, written on net sockets. It knows the
 * protocol's traps: the header is spelled `Content-length`, PING needs its blank line, and a
 * non-zero code on the first answer line means no body follows. spamd needs the size before
 * the body, so messages are sent from a buffer (the plugin bounds it with `maxSize`).
 */
export class SpamdClient {
  readonly options: Required<Omit<SpamdClientOptions, 'socketPath'>> & { socketPath: string | undefined };

  constructor(options: SpamdClientOptions = {}) {
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 783,
      socketPath: options.socketPath,
      scanTimeout: options.scanTimeout ?? 30_000,
      maxResponseBytes: options.maxResponseBytes ?? 32 * 1024 * 1024,
    };
  }

  /** PING: resolves when spamd answers PONG. */
  async ping(signal?: AbortSignal): Promise<void> {
    const r = await this.request('PING', undefined, {}, signal);
    if (!/PONG/.test(r.statusText)) {
      throw new SpamError(
        'MEF_SPAM_SPAMD_PROTOCOL',
        `spamd answered PING with ${JSON.stringify(r.statusLine)}`,
      );
    }
  }

  /** Runs a scanning command on a message. */
  async scan(
    command: Exclude<SpamdCommand, 'PING' | 'TELL'>,
    message: Buffer,
    options: { user?: string; signal?: AbortSignal } = {},
  ): Promise<SpamdResult> {
    const headers: Record<string, string> = {};
    if (options.user) headers.User = options.user;
    const r = await this.request(command, message, headers, options.signal);
    return this.result(r);
  }

  /** TELL: teaches spamd's Bayes a message (spamd must run with `--allow-tell`). */
  async tell(
    message: Buffer,
    options: TellOptions,
    signal?: AbortSignal,
  ): Promise<{ didSet: string; didRemove: string }> {
    const headers: Record<string, string> = { 'Message-class': options.messageClass };
    if (options.action === 'forget') headers.Remove = 'local';
    else headers.Set = 'local';
    if (options.user) headers.User = options.user;
    const r = await this.request('TELL', message, headers, signal);
    return { didSet: r.headers.didset ?? '', didRemove: r.headers.didremove ?? '' };
  }

  private result(r: RawAnswer): SpamdResult {
    const spamHeader = r.headers.spam;
    const m = spamHeader
      ? /^\s*(True|False|Yes|No)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/i.exec(spamHeader)
      : null;
    if (!m) {
      throw new SpamError(
        'MEF_SPAM_SPAMD_PROTOCOL',
        `spamd answer lacks a valid Spam header: ${JSON.stringify(spamHeader)}`,
      );
    }
    const bodyText = r.body.toString('utf8');
    let rules: SpamdRule[] = [];
    let symbols: string[] = [];
    if (r.command === 'SYMBOLS') {
      symbols = bodyText
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (r.command === 'REPORT' || r.command === 'REPORT_IFSPAM') {
      rules = parseSpamdReport(bodyText);
      symbols = rules.map((x) => x.name);
    }
    return {
      version: r.version,
      spam: /^(true|yes)$/i.test(m[1] as string),
      score: Number(m[2]),
      threshold: Number(m[3]),
      symbols,
      rules,
      body: r.body,
      headers: r.headers,
    };
  }

  private request(
    command: SpamdCommand,
    message: Buffer | undefined,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<RawAnswer> {
    const o = this.options;
    return new Promise<RawAnswer>((resolve, reject) => {
      let settled = false;
      const chunks: Buffer[] = [];
      let received = 0;
      const socket: Socket = o.socketPath ? connect(o.socketPath) : connect({ host: o.host, port: o.port });
      const finish = (err: Error | undefined, value?: RawAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve(value as RawAnswer);
      };
      const timer = setTimeout(
        () =>
          finish(
            new SpamError(
              'MEF_SPAM_SPAMD_TIMEOUT',
              `spamd did not answer ${command} within ${o.scanTimeout} ms`,
            ),
          ),
        o.scanTimeout,
      );
      const onAbort = () =>
        finish(
          new SpamError('MEF_SPAM_SPAMD_TIMEOUT', `spamd ${command} aborted`, { cause: signal?.reason }),
        );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('connect', () => {
        let head = `${command} SPAMC/1.5\r\n`;
        if (message) head += `Content-length: ${message.length}\r\n`;
        for (const [k, v] of Object.entries(extra)) head += `${k}: ${v.replace(/[\r\n]/g, ' ')}\r\n`;
        head += '\r\n';
        socket.write(head);
        if (message) socket.write(message);
        // spamd reads Content-length bytes; half-closing tells it nothing more comes.
        socket.end();
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > o.maxResponseBytes) {
          finish(
            new SpamError('MEF_SPAM_SPAMD_PROTOCOL', `spamd answer exceeds ${o.maxResponseBytes} bytes`),
          );
          return;
        }
        chunks.push(chunk);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // An early answer (a refusal) may arrive before a write fails: keep it if complete.
        if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && chunks.length) {
          try {
            return finish(undefined, parseAnswer(command, Buffer.concat(chunks), true));
          } catch {
            // fall through to the connection error
          }
        }
        finish(
          new SpamError('MEF_SPAM_SPAMD_UNAVAILABLE', `spamd connection failed: ${err.message}`, {
            cause: err,
          }),
        );
      });
      socket.on('close', () => {
        if (settled) return;
        try {
          finish(undefined, parseAnswer(command, Buffer.concat(chunks), false));
        } catch (err) {
          finish(err as Error);
        }
      });
    });
  }
}

/** A raw spamd answer: status line, headers and body, before the `Spam:` header is read. */
export interface RawAnswer {
  command: SpamdCommand;
  version: string;
  code: number;
  statusText: string;
  statusLine: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parses a complete spamd answer (the connection has closed). */
export function parseAnswer(command: SpamdCommand, data: Buffer, partial: boolean): RawAnswer {
  if (data.length === 0) {
    throw new SpamError(
      'MEF_SPAM_SPAMD_UNAVAILABLE',
      `spamd closed the connection without answering ${command}`,
    );
  }
  const firstEnd = data.indexOf('\r\n');
  const statusLine = data
    .subarray(0, firstEnd === -1 ? Math.min(data.length, 200) : firstEnd)
    .toString('latin1');
  const m = /^SPAMD\/(\d+\.\d+)\s+(\d+)\s*(.*)$/.exec(statusLine);
  if (!m || firstEnd === -1) {
    throw new SpamError(
      'MEF_SPAM_SPAMD_PROTOCOL',
      `spamd answered ${JSON.stringify(statusLine.slice(0, 100))}`,
    );
  }
  const code = Number(m[2]);
  if (code !== 0) {
    // A non-zero code: no headers or body follow.
    throw new SpamError('MEF_SPAM_SPAMD_PROTOCOL', `spamd refused ${command}: ${code} ${m[3] ?? ''}`.trim());
  }
  const headers: Record<string, string> = {};
  let pos = firstEnd + 2;
  for (;;) {
    const end = data.indexOf('\r\n', pos);
    if (end === -1) {
      if (command === 'PING' && pos >= data.length) break;
      throw new SpamError('MEF_SPAM_SPAMD_PROTOCOL', `spamd answer to ${command} ended inside its headers`);
    }
    const line = data.subarray(pos, end).toString('latin1');
    pos = end + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new SpamError('MEF_SPAM_SPAMD_PROTOCOL', `spamd sent a bad header line ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = data.subarray(pos);
  const declared = headers['content-length'];
  if (declared !== undefined && Number(declared) !== body.length && !partial) {
    throw new SpamError(
      'MEF_SPAM_SPAMD_PROTOCOL',
      `spamd declared Content-length ${declared} but sent ${body.length} bytes for ${command}`,
    );
  }
  return { command, version: m[1] as string, code, statusText: m[3] ?? '', statusLine, headers, body };
}
