import type { LimitName } from '../message/limits.js';
import type { FindingSet } from '../recorder.js';
import type { Disposition, Reply } from '../verdict.js';

function limitReply(name: LimitName, d: Disposition): Reply | undefined {
  if (d === 'reject') {
    if (name === 'size') return { code: 552, enhanced: '5.3.4', lines: ['Message size exceeds fixed limit'] };
    if (name === 'header') return { code: 552, enhanced: '5.3.4', lines: ['Message header block too large'] };
    return { code: 554, enhanced: '5.6.0', lines: ['Message structure too complex to scan'] };
  }
  if (d === 'tempfail') return { code: 452, enhanced: '4.3.1', lines: ['Message could not be scanned now'] };
  return undefined;
}

/**
 * Records a limit the message hit: the `MEF_LIMIT_*` symbol, and unless its policy is accept,
 * the forced disposition with the reply that fits the limit.
 */
export function recordLimit(findings: FindingSet, name: LimitName, d: Disposition, detail: string): void {
  findings.symbols.push({
    name: `MEF_LIMIT_${name.toUpperCase()}`,
    score: 0,
    stage: 'engine',
    group: 'limits',
    options: [detail],
  });
  if (d === 'accept') return;
  const reply = limitReply(name, d);
  findings.forced.push({
    stage: 'engine',
    disposition: d,
    scope: 'transaction',
    reason: detail,
    ...(reply ? { reply } : {}),
  });
}
