import type { Verdict } from '@mef/core';
import type { TransactionRecord } from './domain-settings.js';

/**
 * The record the verdict log keeps: a message that monitor mode let through although the filters
 * would have refused it is recorded as `would-reject` (`would-tempfail`, `would-quarantine`,
 * `would-discard`), so "what monitor mode would have refused so far" can be counted. Any other
 * record is returned as it is: the disposition the sender heard.
 */
export function monitorRecord(record: TransactionRecord, verdict: Verdict | undefined): TransactionRecord {
  if (!verdict?.monitor || verdict.wouldBe === undefined || record.disposition !== 'accept') return record;
  return { ...record, disposition: `would-${verdict.wouldBe}` };
}
