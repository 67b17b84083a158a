import type { BlockList } from 'node:net';
import {
  checkEnum,
  checkErrorPolicy,
  checkNumber,
  checkPluginName,
  type ErrorPolicy,
  invalidOption,
  networkList,
} from '@mef/core';
import { RblChecker } from './checker.js';
import { type DnsClientOptions, DnsListClient } from './dns-client.js';
import { type CompiledList, compileList, type RblListConfig } from './list-config.js';

/** Options of {@link rbl}. */
export interface RblOptions extends Omit<DnsClientOptions, 'servers'> {
  /**
   * The DNS servers to ask (`127.0.0.1:53`, `[::1]:5353`). Required: there is no implicit
   * fallback to the system resolver, whose answers a blocklist may refuse or poison.
   */
  servers: readonly string[];
  /** The lists, such as `[spamhausZen(), spamhausDbl()]`. */
  lists: readonly RblListConfig[];
  /** Plugin name (default `rbl`). */
  name?: string;
  /** What a lookup failure turns into (default `accept`: a missing opinion does not delay mail). */
  onError?: ErrorPolicy;
  /** Stage timeout in ms (default: twice the `queryTimeout` plus 1 s: an A and a TXT lookup). */
  stageTimeout?: number;
  /** Stage priority (default 50: before content scanners, so an allowlist can skip them). */
  priority?: number;
  /** Seconds between health probes (default 300; 0 probes only at start). */
  probeInterval?: number;
  /** Probe every list in `setup` (default true). */
  probeAtStart?: boolean;
  /** Seconds a list stays out of service after an error answer (default 300). */
  outOfService?: number;
  /** Link extraction for `uri` and `uri-ip` lists. */
  links?: {
    /** `parts`: the text/* parts that are not attachments (default); `text`: the engine's extracted text. */
    source?: 'parts' | 'text';
    /** Bytes read of each text part (default 1 MiB). */
    maxBytes?: number;
    /** Most link targets (domains and IPs) looked up per message (default 50). */
    maxLookups?: number;
  };
  /** `Received` hops for `received` lists. */
  received?: {
    /** Most hops looked up (default 3). */
    maxHops?: number;
    /** Your own relays' networks (CIDRs): their hops are trusted, not looked up. */
    trusted?: readonly string[];
  };
  /** A shared client (several plugins, one cache); the plugin then does not create its own. */
  client?: DnsListClient;
}

/** The options of {@link rbl}, checked, with their defaults filled in. */
export interface RblSettings {
  readonly name: string;
  readonly onError: ErrorPolicy;
  readonly stageTimeout: number | undefined;
  readonly source: 'parts' | 'text';
  readonly trusted: BlockList | undefined;
  readonly client: DnsListClient;
  /** True when the plugin created the client (and cancels it at teardown). */
  readonly ownClient: boolean;
  readonly lists: readonly CompiledList[];
  readonly checker: RblChecker;
  /** Milliseconds between health probes; 0 for none after the start. */
  readonly probeInterval: number;
  readonly maxBytes: number;
  readonly maxLookups: number;
  readonly maxHops: number;
}

/** Checks the options of {@link rbl}; a bad value throws a TypeError naming the option. */
export function resolveOptions(options: RblOptions): RblSettings {
  if (!options || typeof options !== 'object') throw invalidOption('options', options, 'an options object');
  if (!Array.isArray(options.lists) || options.lists.length === 0) {
    throw invalidOption('lists', options.lists, 'a non-empty list of DNS lists such as [spamhausZen()]');
  }
  const name = checkPluginName(options.name, 'rbl');
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  const probeInterval = checkNumber('probeInterval', options.probeInterval) ?? 300;
  checkNumber('outOfService', options.outOfService);
  const maxBytes = checkNumber('links.maxBytes', options.links?.maxBytes, { integer: true }) ?? 1024 * 1024;
  const maxLookups = checkNumber('links.maxLookups', options.links?.maxLookups, { integer: true }) ?? 50;
  const maxHops = checkNumber('received.maxHops', options.received?.maxHops, { integer: true }) ?? 3;
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const source = checkEnum('links.source', options.links?.source, ['parts', 'text'] as const) ?? 'parts';
  let trusted: BlockList | undefined;
  try {
    trusted = options.received?.trusted ? networkList(options.received.trusted) : undefined;
  } catch {
    throw invalidOption(
      'received.trusted',
      options.received?.trusted,
      'a list of CIDRs such as "192.0.2.0/24"',
    );
  }
  const lists = options.lists.map((l, i) => compileList(l, i));
  // The client throws a TypeError when no servers are given: never the system resolver.
  const client =
    options.client ??
    new DnsListClient({
      servers: options.servers,
      ...(options.queryTimeout !== undefined ? { queryTimeout: options.queryTimeout } : {}),
      ...(options.tries !== undefined ? { tries: options.tries } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      ...(options.negativeTtl !== undefined ? { negativeTtl: options.negativeTtl } : {}),
      ...(options.minTtl !== undefined ? { minTtl: options.minTtl } : {}),
      ...(options.maxTtl !== undefined ? { maxTtl: options.maxTtl } : {}),
      ...(options.txtTtl !== undefined ? { txtTtl: options.txtTtl } : {}),
    });
  const checker = new RblChecker(client, lists, {
    ...(options.outOfService !== undefined ? { outOfService: options.outOfService } : {}),
  });
  return {
    name,
    onError,
    stageTimeout,
    source,
    trusted,
    client,
    ownClient: options.client === undefined,
    lists,
    checker,
    probeInterval: probeInterval * 1000,
    maxBytes,
    maxLookups,
    maxHops,
  };
}
