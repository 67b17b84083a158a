import {
  checkBoolean,
  checkEnum,
  checkErrorPolicy,
  checkNumber,
  checkPluginName,
  type ErrorPolicy,
  invalidOption,
} from '@mef/core';
import type { ClamdAddress } from '../clamd/connection.js';
import { checkScores, DETECTION_ACTIONS, type DetectionAction, mostSevere } from '../detection.js';

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

/** Options of `clamav()`. */
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
  scanTimeout?: number;
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
  idleTimeout?: number;
  /** What a clamd failure gives. Default `tempfail`: mail waits rather than passing unscanned. */
  onError?: ErrorPolicy;
  /** Plugin name. Default `clamav`. */
  name?: string;
}

/** The options checked, with their defaults filled in. */
export interface ClamavSettings {
  readonly name: string;
  readonly hosts: readonly ClamdAddress[];
  readonly mode: ScanMode;
  readonly connectTimeout: number;
  readonly scanTimeout: number;
  readonly stageTimeout: number | undefined;
  readonly maxSize: number;
  readonly oversize: 'skip' | 'tempfail' | 'reject';
  readonly action: DetectionAction;
  /** The action for a set of heuristic detections (the most severe of their actions). */
  readonly heuristicActionFor: (names: readonly string[]) => DetectionAction;
  readonly scores: Readonly<Record<ClamavSymbol, number>>;
  readonly headers: boolean;
  readonly scannedHeader: string | undefined;
  readonly skipAuthenticated: boolean;
  readonly skipOutbound: boolean;
  readonly maxConnections: number;
  readonly chunkSize: number;
  readonly keepAlive: boolean;
  readonly idleTimeout: number;
  readonly onError: ErrorPolicy;
}

const HOSTS_EXPECTED = "a 'host:port' string, a socket path, { host, port } or { path }";

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
    throw invalidOption('hosts', value, HOSTS_EXPECTED);
  }
  if (typeof value !== 'string' || value === '') throw invalidOption('hosts', value, HOSTS_EXPECTED);
  if (value.startsWith('unix:')) return { path: value.slice(5) };
  if (value.startsWith('/')) return { path: value };
  const v = value.replace(/^tcp:\/\//, '');
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidOption('hosts', value, HOSTS_EXPECTED);
  }
  return { host: m[1], port };
}

/** Checks the options of `clamav()`; a bad one throws a TypeError naming it. */
export function clamavSettings(options: ClamavOptions): ClamavSettings {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', options, 'an object');
  const rawHosts = options.hosts ?? ['/var/run/clamav/clamd.ctl'];
  if (!Array.isArray(rawHosts) || rawHosts.length === 0)
    throw invalidOption('hosts', rawHosts, 'a non-empty array');
  const heuristicAction = checkEnum('heuristicAction', options.heuristicAction, DETECTION_ACTIONS) ?? 'tag';
  const byPrefix: [string, DetectionAction][] = [];
  if (options.heuristicActions !== undefined) {
    if (typeof options.heuristicActions !== 'object' || options.heuristicActions === null) {
      throw invalidOption('heuristicActions', options.heuristicActions, 'an object of name prefix to action');
    }
    for (const [prefix, a] of Object.entries(options.heuristicActions)) {
      byPrefix.push([prefix, checkEnum(`heuristicActions.${prefix}`, a, DETECTION_ACTIONS) ?? 'tag']);
    }
    // The longest prefix first, so that find() takes it.
    byPrefix.sort((x, y) => y[0].length - x[0].length);
  }
  const actionOf = (name: string): DetectionAction =>
    byPrefix.find(([prefix]) => name.startsWith(prefix))?.[1] ?? heuristicAction;
  if (
    options.scannedHeader !== undefined &&
    (typeof options.scannedHeader !== 'string' || /[\r\n]/.test(options.scannedHeader))
  ) {
    throw invalidOption('scannedHeader', options.scannedHeader, 'a one-line string');
  }
  return {
    name: checkPluginName(options.name, 'clamav'),
    hosts: rawHosts.map(parseClamdAddress),
    mode: checkEnum<ScanMode>('mode', options.mode, ['raw', 'parts', 'both']) ?? 'both',
    connectTimeout: checkNumber('connectTimeout', options.connectTimeout, { min: 1 }) ?? 2000,
    scanTimeout: checkNumber('scanTimeout', options.scanTimeout, { min: 1 }) ?? 60_000,
    stageTimeout: checkNumber('stageTimeout', options.stageTimeout, { min: 1 }),
    maxSize: checkNumber('maxSize', options.maxSize, { min: 1, integer: true }) ?? 24 * 1024 * 1024,
    oversize: checkEnum('oversize', options.oversize, ['skip', 'tempfail', 'reject'] as const) ?? 'skip',
    action: checkEnum('action', options.action, DETECTION_ACTIONS) ?? 'reject',
    heuristicActionFor: (names) => mostSevere(names.map(actionOf), heuristicAction),
    scores: checkScores('scores', options.scores, clamavSymbols),
    headers: checkBoolean('headers', options.headers) ?? true,
    scannedHeader: options.scannedHeader,
    skipAuthenticated: checkBoolean('skipAuthenticated', options.skipAuthenticated) ?? false,
    skipOutbound: checkBoolean('skipOutbound', options.skipOutbound) ?? false,
    maxConnections: checkNumber('maxConnections', options.maxConnections, { min: 1, integer: true }) ?? 4,
    chunkSize: checkNumber('chunkSize', options.chunkSize, { min: 1, integer: true }) ?? 65_536,
    keepAlive: checkBoolean('keepAlive', options.keepAlive) ?? true,
    idleTimeout: checkNumber('idleTimeout', options.idleTimeout, { min: 1 }) ?? 5000,
    onError: checkErrorPolicy('onError', options.onError) ?? 'tempfail',
  };
}
