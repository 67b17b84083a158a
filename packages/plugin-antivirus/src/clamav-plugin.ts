import type { Readable } from 'node:stream';
import type { ErrorPolicy, MessageContext, Plugin, StageErrorKind } from '@mef/core';
import { definePlugin, invalidOption } from '@mef/core';
import { type ClamdAddress, ClamdClient, type InstreamSession } from './clamd/client.js';
import { CORE_RANGE } from './core-range.js';
import { AntivirusError } from './errors.js';
import {
  ACTIONS,
  checkBoolean,
  checkEnum,
  checkNumber,
  checkScores,
  type DetectionAction,
} from './options.js';

/** Which bytes go to clamd. */
export type ScanMode = 'raw' | 'parts' | 'both';

/** The symbols the clamav plugin records, with their default scores. */
export const clamavSymbols = {
  /** A virus (any detection that is not `Heuristics.*`); the action forces the disposition. */
  CLAMAV_VIRUS: 10,
  /** A heuristic detection (`Heuristics.Encrypted.*`, `Heuristics.OLE2.ContainsMacros`, `Heuristics.Limits.Exceeded*`...). */
  CLAMAV_HEURISTIC: 3,
  /** The message was larger than `maxSize` and was not scanned (`oversize: 'skip'`). */
  CLAMAV_SKIPPED_SIZE: 0,
  /** clamd failed (down, timeout, garbage, ERROR reply); the failure policy decides. */
  CLAMAV_FAIL: 0,
} as const;

/** A symbol of the clamav plugin. */
export type ClamavSymbol = keyof typeof clamavSymbols;

/** Options of {@link clamav}. */
export interface ClamavOptions {
  /**
   * clamd addresses, tried in order (failover at connect time): `'127.0.0.1:3310'`, `'tcp://host:port'`,
   * `'[::1]:3310'`, `'/run/clamav/clamd.ctl'`, `'unix:/path'`, or objects. Default: Debian's
   * `/var/run/clamav/clamd.ctl`.
   */
  hosts?: ReadonlyArray<string | ClamdAddress>;
  /**
   * `raw`: the message as received (clamd unpacks MIME itself); `parts`: each decoded MIME leaf
   * part, so a detection names the part and file name; `both` (default): one pass feeds the raw
   * stream and the parts to clamd at once (inline text parts without a name are left to the raw scan).
   */
  mode?: ScanMode;
  /** Time to connect to one host (ms). Default 2000. */
  connectTimeout?: number;
  /** Longest wait for clamd to take a chunk or to answer after the last one (ms). Default 60000. */
  timeout?: number;
  /** The stage timeout of the message hook (ms). Default: the engine's. */
  stageTimeout?: number;
  /** Messages (and parts) larger than this are not scanned. Keep it below clamd's StreamMaxLength. Default 24 MiB. */
  maxSize?: number;
  /** What a message over `maxSize` gets: `skip` (symbol CLAMAV_SKIPPED_SIZE), `tempfail` or `reject`. Default `skip`. */
  oversize?: 'skip' | 'tempfail' | 'reject';
  /** What a virus does. Default `reject` (554 5.7.1 with the virus name). */
  action?: DetectionAction;
  /** What a heuristic detection does. Default `tag` (symbol CLAMAV_HEURISTIC with its score). */
  heuristicAction?: DetectionAction;
  /**
   * Actions per heuristic, by name prefix, over `heuristicAction`: for example
   * `{ 'Heuristics.OLE2.ContainsMacros': 'quarantine', 'Heuristics.Limits.Exceeded': 'tag' }`.
   * The longest matching prefix wins; with several detections the most severe action applies.
   */
  heuristicActions?: Readonly<Record<string, DetectionAction>>;
  /** Symbol scores, over the defaults of {@link clamavSymbols}. */
  scores?: Partial<Record<ClamavSymbol, number>>;
  /** Add `X-Virus-Scanned` and `X-Virus-Status` headers to mail that is handed on. Default true. */
  headers?: boolean;
  /** The `X-Virus-Scanned` value. Default `MEF ClamAV` plus clamd's version when known. */
  scannedHeader?: string;
  /** Do not scan mail from authenticated users. Default false. */
  skipAuthenticated?: boolean;
  /** Do not scan outbound mail. Default false. */
  skipOutbound?: boolean;
  /** Most part connections open at once for one message, beside the raw one (parts are scanned while the pass goes on). Default 4. */
  maxConnections?: number;
  /** Gather small chunks up to this many bytes before framing them. Default 65536. */
  chunkSize?: number;
  /** Keep clamd connections open between scans (IDSESSION). Default true. */
  keepAlive?: boolean;
  /** Close a kept connection after this long unused (ms), below clamd's IdleTimeout. Default 5000. */
  keepAliveIdle?: number;
  /** What a clamd failure gives. Default `tempfail`: mail waits rather than passing unscanned. */
  onError?: ErrorPolicy;
  /** Plugin name. Default `clamav`. */
  name?: string;
}

/** Parses one `hosts` entry. */
export function parseClamdAddress(value: string | ClamdAddress): ClamdAddress {
  if (typeof value === 'object' && value !== null) {
    if ('path' in value && typeof value.path === 'string' && value.path) return { path: value.path };
    if (
      'host' in value &&
      typeof value.host === 'string' &&
      Number.isInteger(value.port) &&
      value.port > 0 &&
      value.port < 65536
    ) {
      return { host: value.host, port: value.port };
    }
    throw invalidOption('hosts', value, "a 'host:port' string, a socket path, { host, port } or { path }");
  }
  if (typeof value !== 'string' || value === '') {
    throw invalidOption('hosts', value, "a 'host:port' string, a socket path, { host, port } or { path }");
  }
  if (value.startsWith('unix:')) return { path: value.slice(5) };
  if (value.startsWith('/')) return { path: value };
  const v = value.replace(/^tcp:\/\//, '');
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidOption('hosts', value, "a 'host:port' string, a socket path, { host, port } or { path }");
  }
  return { host: m[1], port };
}

interface Detection {
  readonly name: string;
  readonly heuristic: boolean;
  readonly where: string;
}

/** A small counting semaphore: bounds open clamd connections per message. */
class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.queue.push(r));
  }
  give(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

const sanitize = (s: string) => s.replace(/[\r\n\0]+/g, ' ').slice(0, 200);

/**
 * The ClamAV plugin: streams the message (and/or each decoded MIME part) to clamd with
 * `zINSTREAM` while the engine's one pass flows, and records CLAMAV_* symbols.
 */
export function clamav(options: ClamavOptions = {}): Plugin & { readonly client: ClamdClient } {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', options, 'an object');
  const rawHosts = options.hosts ?? ['/var/run/clamav/clamd.ctl'];
  if (!Array.isArray(rawHosts) || rawHosts.length === 0)
    throw invalidOption('hosts', rawHosts, 'a non-empty array');
  const hosts = rawHosts.map(parseClamdAddress);
  const mode = checkEnum<ScanMode>('mode', options.mode, ['raw', 'parts', 'both'], 'both');
  const connectTimeout = checkNumber('connectTimeout', options.connectTimeout, 2000, 1);
  const timeout = checkNumber('timeout', options.timeout, 60_000, 1);
  const maxSize = checkNumber('maxSize', options.maxSize, 24 * 1024 * 1024, 1, true);
  const oversize = checkEnum('oversize', options.oversize, ['skip', 'tempfail', 'reject'] as const, 'skip');
  const action = checkEnum('action', options.action, ACTIONS, 'reject');
  const heuristicAction = checkEnum('heuristicAction', options.heuristicAction, ACTIONS, 'tag');
  const heuristicActions: [string, DetectionAction][] = [];
  if (options.heuristicActions !== undefined) {
    if (typeof options.heuristicActions !== 'object' || options.heuristicActions === null) {
      throw invalidOption('heuristicActions', options.heuristicActions, 'an object of name prefix to action');
    }
    for (const [prefix, a] of Object.entries(options.heuristicActions)) {
      heuristicActions.push([prefix, checkEnum(`heuristicActions.${prefix}`, a, ACTIONS, 'tag')]);
    }
    heuristicActions.sort((x, y) => y[0].length - x[0].length);
  }
  const actionFor = (name: string): DetectionAction =>
    heuristicActions.find(([prefix]) => name.startsWith(prefix))?.[1] ?? heuristicAction;
  const scores = checkScores('scores', options.scores, clamavSymbols);
  const headers = checkBoolean('headers', options.headers, true);
  const skipAuthenticated = checkBoolean('skipAuthenticated', options.skipAuthenticated, false);
  const skipOutbound = checkBoolean('skipOutbound', options.skipOutbound, false);
  const maxConnections = checkNumber('maxConnections', options.maxConnections, 4, 1, true);
  const chunkSize = checkNumber('chunkSize', options.chunkSize, 65_536, 1, true);
  const keepAlive = checkBoolean('keepAlive', options.keepAlive, true);
  const keepAliveIdle = checkNumber('keepAliveIdle', options.keepAliveIdle, 5000, 1);
  const onError = checkEnum<ErrorPolicy>(
    'onError',
    options.onError,
    ['tempfail', 'accept', 'reject'],
    'tempfail',
  );
  if (
    options.scannedHeader !== undefined &&
    (typeof options.scannedHeader !== 'string' || /[\r\n]/.test(options.scannedHeader))
  ) {
    throw invalidOption('scannedHeader', options.scannedHeader, 'a one-line string');
  }
  if (options.stageTimeout !== undefined) checkNumber('stageTimeout', options.stageTimeout, 0, 1);
  const name = options.name ?? 'clamav';
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw invalidOption('name', name, 'a kebab-case name');

  const client = new ClamdClient({
    hosts,
    connectTimeout,
    timeout,
    chunkSize,
    keepAlive,
    keepAliveIdle,
    keepAliveMax: Math.max(8, maxConnections),
  });
  let scannedHeader = options.scannedHeader ?? 'MEF ClamAV';

  async function message(ctx: MessageContext): Promise<void> {
    const { tx } = ctx;
    if ((skipAuthenticated && tx.user !== undefined) || (skipOutbound && tx.direction === 'outbound')) return;
    const declared = Number(tx.mailFrom?.params.SIZE);
    if (Number.isFinite(declared) && declared > maxSize) {
      // The client declared the size: no need to read anything.
      tooLarge(ctx, declared);
      return;
    }

    const detections: Detection[] = [];
    const failures: AntivirusError[] = [];
    let rawReply: Promise<void> | undefined;
    const partReplies: Promise<void>[] = [];
    const slots = new Slots(maxConnections);
    let over = false;

    const fail = (err: unknown) => {
      failures.push(
        err instanceof AntivirusError
          ? err
          : new AntivirusError(
              'MEF_AV_CLAMD_UNAVAILABLE',
              'unavailable',
              String((err as Error)?.message ?? err),
              { cause: err },
            ),
      );
    };

    /**
     * Feeds one stream to one INSTREAM session. Resolves when the stream is read to its end,
     * with the reply still pending (in a box, so that the promise is not adopted): the next
     * part flows while clamd scans this one.
     */
    const feed = async (
      content: Readable,
      where: string,
      beforeEnd?: () => Promise<unknown>,
    ): Promise<{ reply: Promise<void> } | undefined> => {
      let session: InstreamSession | undefined;
      let slot = false;
      let bytes = 0;
      try {
        for await (const chunk of content as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > maxSize) {
            over = true;
            session?.abort();
            session = undefined;
          }
          if (over || failures.length > 0) {
            if (session) {
              session.abort();
              session = undefined;
            }
            continue; // keep draining: the pass must not stall on us
          }
          try {
            if (!session) {
              // Only part connections take a slot: the raw one is always open, so parts never
              // wait for it (that would stall the pass that the raw stream needs to finish).
              if (where !== 'message') {
                await slots.take();
                slot = true;
              }
              session = await client.instream(ctx.signal);
            }
            await session.write(chunk);
          } catch (err) {
            fail(err);
            session?.abort();
            session = undefined;
          }
        }
      } catch (err) {
        // The view failed (an aborted source, a stage timeout): close our side too.
        session?.abort();
        if (slot) slots.give();
        throw err;
      }
      if (!session) {
        if (slot) slots.give();
        return undefined;
      }
      const s = session;
      const reply = (beforeEnd ? beforeEnd().then(() => s.end()) : s.end())
        .then(
          (reply) => {
            if (reply.kind === 'found')
              detections.push({ name: reply.name, heuristic: reply.heuristic, where });
            else if (reply.kind === 'error') {
              const limit = /size limit/i.test(reply.message);
              failures.push(
                new AntivirusError(
                  'MEF_AV_CLAMD_ERROR',
                  limit ? 'limit' : 'protocol',
                  `clamd answered ${JSON.stringify(reply.raw)} for ${where}`,
                ),
              );
            }
          },
          (err: unknown) => {
            client.markDown(s.address);
            fail(err);
          },
        )
        .finally(() => {
          if (slot) slots.give();
        });
      return { reply };
    };

    if (mode !== 'parts') {
      const raw = ctx.message.raw();
      // In both mode the raw terminator waits for the part replies: clamd then finds the
      // parts it just scanned in its cache of clean content when it unpacks the message, so
      // both costs about what raw alone costs (measured in bench/src/antivirus-clamd.ts).
      rawReply = feed(
        raw,
        'message',
        mode === 'both' ? () => Promise.allSettled(partReplies) : undefined,
      ).then(
        (box) => box?.reply,
        (err) => fail(err),
      );
    }
    if (mode !== 'raw') {
      ctx.message.parts({}, (part) => {
        if (
          mode === 'both' &&
          part.filename === undefined &&
          part.disposition !== 'attachment' &&
          /^text\/(plain|html)$/.test(part.contentType)
        ) {
          // The raw scan covers the inline text; a part of its own pays where a name is to report.
          part.skip();
          return undefined;
        }
        const where = `part ${part.partId}${part.filename ? ` (${sanitize(part.filename)})` : ''}`;
        const read = feed(part.content, where).catch((err) => {
          fail(err);
          return undefined;
        });
        const reply = read.then((box) => box?.reply);
        partReplies.push(reply);
        // The handler settles with clamd's answer for the part: the stage is not done before.
        return reply;
      });
    }

    await ctx.message.ended();
    await rawReply;

    const viruses = detections.filter((d) => !d.heuristic);
    const heuristics = detections.filter((d) => d.heuristic);
    if (viruses.length > 0) {
      const names = [...new Set(viruses.map((d) => d.name))];
      ctx.findings.symbol('CLAMAV_VIRUS', scores.CLAMAV_VIRUS, {
        group: 'antivirus',
        options: [...names, ...new Set(viruses.map((d) => d.where))],
        description: 'clamd found a virus',
      });
      apply(ctx, action, `Virus found: ${names.join(', ')}`, `Infected (${names.join(', ')})`);
    }
    if (heuristics.length > 0) {
      const names = [...new Set(heuristics.map((d) => d.name))];
      ctx.findings.symbol('CLAMAV_HEURISTIC', scores.CLAMAV_HEURISTIC, {
        group: 'antivirus',
        options: [...names, ...new Set(heuristics.map((d) => d.where))],
        description: 'clamd heuristic detection',
      });
      if (viruses.length === 0) {
        const order: DetectionAction[] = ['reject', 'quarantine', 'tag'];
        const what =
          names.map(actionFor).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0] ?? heuristicAction;
        apply(ctx, what, `Suspicious content: ${names.join(', ')}`, `Suspicious (${names.join(', ')})`);
      }
    }
    if (over) {
      tooLarge(ctx, undefined);
      return;
    }
    if (failures.length > 0 && detections.length === 0) {
      const first = failures[0] as AntivirusError;
      ctx.findings.symbol('CLAMAV_FAIL', scores.CLAMAV_FAIL, {
        group: 'antivirus',
        options: [first.code],
        description: first.message,
      });
      ctx.findings.error(first.kind as StageErrorKind, first.code, first.message);
      return;
    }
    if (detections.length === 0 && headers) {
      ctx.findings.addHeader('X-Virus-Scanned', scannedHeader);
      ctx.findings.addHeader('X-Virus-Status', 'Clean');
    }
  }

  function apply(ctx: MessageContext, what: DetectionAction, text: string, status: string): void {
    const line = sanitize(text);
    if (what === 'reject') {
      ctx.findings.reject({ code: 554, enhanced: '5.7.1', text: line }, { reason: line });
    } else if (what === 'quarantine') {
      ctx.findings.force('quarantine', { reason: line });
    }
    if (what !== 'reject' && headers) {
      ctx.findings.addHeader('X-Virus-Scanned', scannedHeader);
      ctx.findings.addHeader('X-Virus-Status', sanitize(status));
    }
  }

  function tooLarge(ctx: MessageContext, declared: number | undefined): void {
    const detail =
      declared === undefined ? `larger than ${maxSize} bytes` : `declared SIZE ${declared} > ${maxSize}`;
    if (oversize === 'tempfail') {
      ctx.findings.error('limit', 'MEF_AV_SIZE_LIMIT', `Message not scanned for viruses: ${detail}`);
      ctx.findings.tempfail(
        { code: 452, enhanced: '4.3.4', text: 'Message too large to scan for viruses, try again later' },
        { reason: `clamav: ${detail}` },
      );
    } else if (oversize === 'reject') {
      ctx.findings.reject(
        { code: 552, enhanced: '5.3.4', text: 'Message too large to scan for viruses' },
        { reason: `clamav: ${detail}` },
      );
    } else {
      ctx.findings.symbol('CLAMAV_SKIPPED_SIZE', scores.CLAMAV_SKIPPED_SIZE, {
        group: 'antivirus',
        options: [detail],
        description: 'message too large for the virus scan',
      });
      if (headers) ctx.findings.addHeader('X-Virus-Status', 'Unscanned (too large)');
    }
  }

  return Object.assign(
    definePlugin({
      name,
      core: CORE_RANGE,
      onError,
      ...(options.stageTimeout !== undefined ? { timeout: options.stageTimeout } : {}),
      async setup(ctx) {
        if (options.scannedHeader !== undefined) return;
        // The version only decorates a header: never hold the engine's start for it.
        const lookup = client.version().then(
          (v) => {
            scannedHeader = `MEF ClamAV (${sanitize(v.split('/')[0] ?? v)})`;
          },
          (err: unknown) => {
            ctx.log.warn(
              { err, hosts: hosts.length },
              'clamd did not answer VERSION at setup; scanning will retry',
            );
          },
        );
        await Promise.race([
          lookup,
          new Promise<void>((r) => setTimeout(r, Math.min(connectTimeout, 1000) + 500).unref()),
        ]);
      },
      async teardown() {
        await client.close();
      },
      async health() {
        try {
          await client.ping();
          return { ok: true, detail: 'clamd answered PONG' };
        } catch (err) {
          return { ok: false, detail: (err as Error).message };
        }
      },
      message,
    }),
    { client },
  );
}
