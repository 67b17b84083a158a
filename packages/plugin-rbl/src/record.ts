import type { StageContext, StageErrorKind } from '@mef/core';
import type { RblOutcome } from './checker.js';
import type { RblError } from './errors.js';
import type { RblCheck } from './list-config.js';
import { stateOf } from './state.js';

/**
 * How the outcomes of one phase's lookups become findings: a symbol per listing (each counted
 * once per transaction), `RBL_ERROR` for lists that failed, allowlist skips, and a reject now
 * or deferred to RCPT.
 */

const LABEL: Record<RblCheck, string> = {
  client: 'Client host',
  received: 'Relay host',
  helo: 'HELO name',
  mailfrom: 'Sender domain',
  from: 'From domain',
  uri: 'Link domain',
  'uri-ip': 'Link host',
};

const ERROR_KIND: Record<string, StageErrorKind> = {
  MEF_RBL_TIMEOUT: 'timeout',
  MEF_RBL_UNAVAILABLE: 'unavailable',
  MEF_RBL_LIST_ERROR: 'protocol',
};

/** The SMTP phase whose lookups are recorded. */
export type Phase = 'connect' | 'helo' | 'mailFrom' | 'message';

function cleanTxt(txt: string): string {
  return txt
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** Records the outcomes of one phase and applies rejects and skips. */
export function recordOutcomes(ctx: StageContext, phase: Phase, outcomes: readonly RblOutcome[]): void {
  const state = stateOf(ctx);
  const symbols = new Map<string, { score: number; options: string[]; description?: string }>();
  const errors: string[] = [];
  let firstError: RblError | undefined;
  let reject: { outcome: RblOutcome } | undefined;
  for (const o of outcomes) {
    if (o.status === 'error' || o.status === 'out-of-service') {
      const err = o.error;
      errors.push(`${o.list.zone}:${err?.code ?? 'MEF_RBL_UNAVAILABLE'}`);
      if (o.status === 'error' && err && !firstError) firstError = err;
      continue;
    }
    if (o.status !== 'listed') continue;
    const names: string[] = [];
    for (const hit of o.hits) {
      const symbol = o.check === 'received' ? `RECEIVED_${hit.symbol.replace(/^RBL_/, '')}` : hit.symbol;
      names.push(symbol);
      const opts = [`${o.check}:${o.target}`, hit.answer];
      const entry = symbols.get(symbol);
      if (entry) entry.options.push(...opts);
      else
        symbols.set(symbol, {
          score: hit.score,
          options: opts,
          ...(hit.description !== undefined ? { description: hit.description } : {}),
        });
      if (hit.rejects && !reject) reject = { outcome: o };
    }
    if (o.txt !== undefined) symbols.get(names[0] ?? '')?.options.push(cleanTxt(o.txt));
    state.listings.push({
      zone: o.list.zone,
      check: o.check,
      target: o.target,
      symbols: names,
      allowlist: o.list.allowlist,
      ...(o.txt !== undefined ? { txt: cleanTxt(o.txt) } : {}),
    });
    if (o.list.allowlist) {
      state.allowlisted = true;
      for (const stage of o.list.skip) ctx.findings.skip(stage, `${o.target} is listed by ${o.list.zone}`);
    }
  }
  for (const [symbol, s] of symbols) {
    if (state.recorded.has(symbol)) continue;
    state.recorded.add(symbol);
    ctx.findings.symbol(symbol, s.score, {
      group: 'rbl',
      options: s.options,
      ...(s.description !== undefined ? { description: s.description } : {}),
    });
  }
  if (errors.length) {
    ctx.findings.symbol('RBL_ERROR', 0, { group: 'rbl', options: errors });
    if (firstError) {
      ctx.findings.error(ERROR_KIND[firstError.code] ?? 'unavailable', firstError.code, firstError.message);
    }
  }
  if (!reject || state.allowlisted) return;
  const o = reject.outcome;
  const list = o.list;
  const txt = list.txt && o.txt !== undefined ? `; ${cleanTxt(o.txt)}` : '';
  const target = o.check === 'client' || o.check === 'received' ? `[${o.target}]` : o.target;
  const text = (list.reply.text ?? `${LABEL[o.check]} {target} blocked using {zone}{txt}`)
    .replaceAll('{target}', target)
    .replaceAll('{zone}', list.zone)
    .replaceAll('{txt}', txt);
  const deferred = list.reject === 'rcpt' && phase !== 'message';
  const early = !deferred && (phase === 'connect' || phase === 'helo');
  const reply = {
    code: list.reply.code ?? (early ? 554 : 550),
    enhanced: list.reply.enhanced ?? '5.7.1',
    text,
  };
  const reason = `${o.target} listed by ${list.zone}`;
  if (deferred) {
    if (!state.pendingRcpt) state.pendingRcpt = { reply, reason };
    return;
  }
  ctx.findings.force('reject', { reply, reason });
}
