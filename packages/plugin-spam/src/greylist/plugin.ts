import { createHash } from 'node:crypto';
import {
  checkErrorPolicy,
  checkNumber,
  definePlugin,
  type ErrorPolicy,
  type Plugin,
  type ScoreAction,
  type ScoredContext,
} from '@mef/core';
import { CORE_RANGE } from '../core-range.js';
import { recordFailure } from '../plugins/common.js';
import { clientNetwork } from './network.js';
import { type GreylistStore, MemoryGreylistStore } from './store.js';

/** Options of {@link greylist}. Times are in milliseconds. */
export interface GreylistOptions {
  /** Where triplets are remembered. Default: a bounded in-memory store (one relay only). */
  store?: GreylistStore;
  /** How long a new triplet must wait before a retry passes. Default 300,000 (5 min). */
  delay?: number;
  /** How long after the first attempt a retry still counts. Default 86,400,000 (24 h). */
  window?: number;
  /** How long a triplet that passed is remembered (each pass renews it). Default 35 days. */
  remember?: number;
  /** Score actions that are greylisted. Default `['greylist', 'add_header']`. */
  actions?: readonly Exclude<ScoreAction, 'no_action' | 'reject'>[];
  /** Prefix lengths of the client network in the key. Default 24 (IPv4) and 64 (IPv6). */
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  /** Authenticated and outbound mail is not greylisted unless this is false. Default true. */
  skipSubmission?: boolean;
  /** Stage timeout (ms); default the engine's. */
  stageTimeout?: number;
  /** What a failing store turns into. Default `accept` (a missing memory is no reason to defer). */
  onError?: ErrorPolicy;
  /** Clock (ms since the epoch), for tests. Default `Date.now`. */
  now?: () => number;
}

const DAY = 86_400_000;

/** The greylist stage's outcome for one triplet. */
type TripletState = 'new' | 'early' | 'pass';

/**
 * Greylisting that ends: mail whose score reaches a greylisted action gets `451 4.7.1` on its
 * first attempt; a retry of the same triplet (client network, envelope sender, recipient)
 * after `delay` and within `window` passes, and the triplet is then remembered. Mail under
 * the greylist threshold is never greylisted. Runs at the `scored` phase, after the score.
 */
export function greylist(options: GreylistOptions = {}): Plugin {
  const delay = checkNumber('delay', options.delay, { min: 0 }) ?? 300_000;
  const window = checkNumber('window', options.window, { min: 1 }) ?? DAY;
  if (window <= delay) {
    throw new TypeError(`Invalid option window: expected more than delay (${delay}), got ${window}`);
  }
  const remember = checkNumber('remember', options.remember, { min: 1 }) ?? 35 * DAY;
  const v4 = checkNumber('ipv4Prefix', options.ipv4Prefix, { min: 0, max: 32 }) ?? 24;
  const v6 = checkNumber('ipv6Prefix', options.ipv6Prefix, { min: 0, max: 128 }) ?? 64;
  const actions = options.actions ?? ['greylist', 'add_header'];
  for (const a of actions) {
    if (a !== 'greylist' && a !== 'add_header') {
      throw new TypeError(
        `Invalid option actions: expected 'greylist' or 'add_header', got ${JSON.stringify(a)}`,
      );
    }
  }
  const onError = checkErrorPolicy('onError', options.onError) ?? 'accept';
  const stageTimeout = checkNumber('stageTimeout', options.stageTimeout, { min: 1 });
  const now = options.now ?? Date.now;
  const store: GreylistStore = options.store ?? new MemoryGreylistStore({ now });
  const skipSubmission = options.skipSubmission !== false;

  async function check(key: string, at: number): Promise<{ state: TripletState; wait: number }> {
    let rec = await store.get(key);
    rec ??= await store.add(key, { first: at, passed: false }, window);
    if (rec.passed) {
      await store.put(key, rec, remember);
      return { state: 'pass', wait: 0 };
    }
    const age = at - rec.first;
    if (age < delay) return { state: age <= 0 ? 'new' : 'early', wait: delay - age };
    await store.put(key, { first: rec.first, passed: true }, remember);
    return { state: 'pass', wait: 0 };
  }

  async function scored(ctx: ScoredContext): Promise<void> {
    const { tx, verdict } = ctx;
    if (verdict.disposition !== 'accept' || verdict.monitor) return;
    if (!(actions as readonly ScoreAction[]).includes(verdict.score.action)) return;
    if (skipSubmission && (tx.user !== undefined || tx.direction === 'outbound')) return;
    const net = clientNetwork(tx.clientAddress, v4, v6);
    const sender = (tx.mailFrom?.address ?? '').toLowerCase();
    const at = now();
    let wait = 0;
    let fresh = false;
    let passed = 0;
    try {
      for (const r of tx.recipients) {
        const triplet = `${net}\n${sender}\n${r.address.toLowerCase()}`;
        const key = createHash('sha256').update(triplet).digest('hex').slice(0, 40);
        const { state, wait: w } = await check(key, at);
        if (state === 'pass') passed++;
        else {
          wait = Math.max(wait, w);
          if (state === 'new') fresh = true;
        }
      }
    } catch (err) {
      recordFailure(ctx.findings, err, 'MEF_SPAM_GREYLIST_STORE');
      return;
    }
    if (passed === tx.recipients.length) {
      ctx.findings.symbol('GREYLIST_PASS', 0, { group: 'greylist', options: [net] });
      return;
    }
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    ctx.findings.symbol(fresh ? 'GREYLIST_NEW' : 'GREYLIST_EARLY', 0, {
      group: 'greylist',
      options: [net, `retry in ${seconds} s`],
    });
    ctx.findings.tempfail(
      { code: 451, enhanced: '4.7.1', text: `Greylisted, please try again in ${seconds} seconds` },
      { reason: `greylisted (score ${verdict.score.value})` },
    );
  }

  return definePlugin({
    name: 'greylist',
    core: CORE_RANGE,
    onError,
    ...(stageTimeout !== undefined ? { stageTimeout } : {}),
    scored,
    async teardown() {
      await store.close?.();
    },
  });
}
