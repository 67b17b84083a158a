import type { DnsListClient } from './dns-client.js';
import { RblError } from './errors.js';
import {
  type CompiledList,
  compileList,
  IP_CHECKS,
  type RblCheck,
  type RblListConfig,
} from './list-config.js';
import { domainQueryName, ipQueryName } from './query.js';
import { ReturnCodeMap } from './return-codes.js';

/**
 * The checker: asks the compiled lists about targets, reads their answers through each list's
 * return-code map, and keeps each list's service state and health probes.
 */

function isCompiled(l: RblListConfig | CompiledList): l is CompiledList {
  return 'map' in l && l.map instanceof ReturnCodeMap;
}

/** One symbol a listing produced. */
export interface RblHit {
  readonly symbol: string;
  readonly score: number;
  /** The answer that matched, such as `127.0.0.2`. */
  readonly answer: string;
  readonly description?: string;
  /** Whether this hit may reject (the list rejects and the rule allows it). */
  readonly rejects: boolean;
}

/** The outcome of asking one list about one target. */
export interface RblOutcome {
  readonly list: CompiledList;
  readonly check: RblCheck;
  /** The IP or domain asked about. */
  readonly target: string;
  readonly status: 'listed' | 'unlisted' | 'error' | 'out-of-service' | 'skipped';
  readonly hits: readonly RblHit[];
  /** The A answers. */
  readonly answers: readonly string[];
  /** The TXT reason, when `txt` is on and the target is listed. */
  readonly txt?: string;
  readonly error?: RblError;
  /** True when every answer came from the cache. */
  readonly cached: boolean;
}

/** The state of one list. */
export interface ListHealth {
  readonly zone: string;
  readonly name: string;
  readonly inService: boolean;
  /** Why it is out of service. */
  readonly reason?: string;
  /** When it comes back (ms since the epoch; Infinity until the next good probe). */
  readonly until?: number;
  readonly lastProbe?: { readonly at: number; readonly ok: boolean; readonly detail?: string };
}

interface ListState {
  until: number;
  reason: string | undefined;
  lastProbe: { at: number; ok: boolean; detail?: string } | undefined;
}

/**
 * Asks compiled lists about targets through one {@link DnsListClient}; keeps each list's
 * service state (error answers and failed probes take a list out of service).
 */
export class RblChecker {
  readonly lists: readonly CompiledList[];
  readonly client: DnsListClient;
  readonly #state = new Map<CompiledList, ListState>();
  readonly #outOfService: number;
  readonly #now: () => number;

  constructor(
    client: DnsListClient,
    lists: readonly (RblListConfig | CompiledList)[],
    options: { outOfService?: number; now?: () => number } = {},
  ) {
    this.client = client;
    this.lists = lists.map((l, i) => (isCompiled(l) ? l : compileList(l, i)));
    this.#outOfService = (options.outOfService ?? 300) * 1000;
    this.#now = options.now ?? Date.now;
    for (const l of this.lists) this.#state.set(l, { until: 0, reason: undefined, lastProbe: undefined });
  }

  /** The lists that run a check. */
  listsFor(check: RblCheck): CompiledList[] {
    return this.lists.filter((l) => l.checks.has(check));
  }

  /** Whether a list is in service now. */
  inService(list: CompiledList): boolean {
    return (this.#state.get(list)?.until ?? 0) <= this.#now();
  }

  /** Takes a list out of service until `until` (ms since the epoch). */
  suspend(list: CompiledList, reason: string, until = this.#now() + this.#outOfService): void {
    const s = this.#state.get(list);
    if (!s) return;
    s.until = Math.max(s.until, until);
    s.reason = reason;
  }

  /** Asks every list that runs `check` about `target`, in parallel. */
  check(check: RblCheck, target: string): Promise<RblOutcome[]> {
    return Promise.all(this.listsFor(check).map((l) => this.ask(l, check, target)));
  }

  /** Asks one list about one target. Never rejects: failures are outcomes. */
  async ask(list: CompiledList, check: RblCheck, target: string): Promise<RblOutcome> {
    const base = { list, check, target, hits: [], answers: [], cached: false };
    const name = IP_CHECKS.has(check) ? ipQueryName(target, list.zone) : domainQueryName(target, list.zone);
    if (!name) return { ...base, status: 'skipped' };
    if (!this.inService(list)) {
      const reason = this.#state.get(list)?.reason ?? 'out of service';
      return {
        ...base,
        status: 'out-of-service',
        error: new RblError('MEF_RBL_OUT_OF_SERVICE', `${list.zone} is out of service: ${reason}`, {
          zone: list.zone,
        }),
      };
    }
    let answer: { records: readonly string[]; cached: boolean };
    const started = performance.now();
    try {
      answer = await this.client.lookupA(name, list.zone);
    } catch (err) {
      const error =
        err instanceof RblError
          ? err
          : new RblError('MEF_RBL_UNAVAILABLE', `DNS lookup of ${name} failed`, {
              cause: err,
              zone: list.zone,
            });
      return { ...base, status: 'error', error };
    }
    const meaning = list.map.interpret(answer.records);
    if (meaning.errors.length) {
      const reason = `error answer ${meaning.errors.join(', ')} for ${name}`;
      this.suspend(list, reason);
      return {
        ...base,
        answers: answer.records,
        cached: answer.cached,
        status: 'error',
        error: new RblError('MEF_RBL_LIST_ERROR', `${list.zone} answered with an error code: ${reason}`, {
          zone: list.zone,
        }),
      };
    }
    const hits: RblHit[] = meaning.hits.map(({ rule, answer: a }) => ({
      symbol: rule.symbol,
      score: rule.score,
      answer: a,
      rejects: list.reject !== false && rule.reject !== false,
      ...(rule.description !== undefined ? { description: rule.description } : {}),
    }));
    if (!hits.length) return { ...base, answers: answer.records, cached: answer.cached, status: 'unlisted' };
    let txt: string | undefined;
    let cached = answer.cached;
    // The reason text gets what is left of the lookup's time: a slow list costs one timeout, not two.
    const left = this.client.queryTimeout - (performance.now() - started);
    if (list.txt && left >= 1) {
      try {
        const t = await this.client.lookupTxt(name, list.zone, { queryTimeout: left });
        cached &&= t.cached;
        if (t.records.length) txt = t.records.join(' ');
      } catch {
        // The listing stands without its reason text.
      }
    }
    return {
      ...base,
      answers: answer.records,
      cached,
      status: 'listed',
      hits,
      ...(txt !== undefined ? { txt } : {}),
    };
  }

  /**
   * Runs a list's health probe: its listed test entry must be listed (with a valid code),
   * its unlisted entry must not. A failure takes the list out of service until a probe
   * passes; a pass puts it back.
   */
  async probe(list: CompiledList): Promise<{ ok: boolean; detail?: string }> {
    const state = this.#state.get(list);
    if (!state || list.probe === false) return { ok: true };
    const problems: string[] = [];
    const one = async (kind: 'ip' | 'domain', entry: string, wantListed: boolean) => {
      const name = kind === 'ip' ? ipQueryName(entry, list.zone) : domainQueryName(entry, list.zone);
      if (!name) {
        problems.push(`bad probe entry ${entry}`);
        return;
      }
      try {
        const a = await this.client.lookupA(name, list.zone, { fresh: true });
        const m = list.map.interpret(a.records);
        if (m.errors.length) problems.push(`${name} answered with error code ${m.errors.join(', ')}`);
        else if (wantListed && !a.records.length) problems.push(`${name} is not listed`);
        else if (!wantListed && a.records.length)
          problems.push(`${name} is listed (${a.records.join(', ')})`);
      } catch (err) {
        problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const jobs: Promise<void>[] = [];
    for (const kind of ['ip', 'domain'] as const) {
      const p = list.probe[kind];
      if (!p) continue;
      jobs.push(one(kind, p.listed, true), one(kind, p.unlisted, false));
    }
    await Promise.all(jobs);
    const ok = problems.length === 0;
    const detail = ok ? undefined : problems.join('; ');
    state.lastProbe = { at: this.#now(), ok, ...(detail !== undefined ? { detail } : {}) };
    if (ok) {
      state.until = 0;
      state.reason = undefined;
    } else {
      state.until = Number.POSITIVE_INFINITY;
      state.reason = `probe failed: ${detail}`;
    }
    return { ok, ...(detail !== undefined ? { detail } : {}) };
  }

  /** Probes every list in parallel; also learns each zone's negative TTL from its SOA. */
  async probeAll(): Promise<ListHealth[]> {
    await Promise.all(
      this.lists.map(async (l) => {
        await Promise.all([this.probe(l), this.client.learnNegativeTtl(l.zone)]);
      }),
    );
    return this.health();
  }

  /** The service state of every list. */
  health(): ListHealth[] {
    const now = this.#now();
    return this.lists.map((l) => {
      const s = this.#state.get(l);
      const inService = (s?.until ?? 0) <= now;
      return {
        zone: l.zone,
        name: l.name,
        inService,
        ...(!inService && s?.reason !== undefined ? { reason: s.reason, until: s.until } : {}),
        ...(s?.lastProbe ? { lastProbe: { ...s.lastProbe } } : {}),
      };
    });
  }
}
