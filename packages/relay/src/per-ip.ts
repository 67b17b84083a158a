import { clientAddress } from '@mef/core';
import { replyError } from './replies.js';
import type { RelaySection } from './schema.js';

interface Entry {
  open: number;
  starts: number[];
}

/**
 * Per-address concurrency and rate of new sessions (Postfix's anvil): 421 past either limit.
 * Bounded: entries with no open session and no recent start are swept.
 */
export class PerIpLimits {
  private readonly entries = new Map<string, Entry>();

  /** Counts a new session from `address`, or throws the 421 reply. */
  admit(address: string, limits: RelaySection['limits'], hostname: string): void {
    const key = clientAddress(address);
    const now = Date.now();
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size > 100_000) this.sweep(now);
      e = { open: 0, starts: [] };
      this.entries.set(key, e);
    }
    e.starts = e.starts.filter((t) => now - t < 60_000);
    if (e.open >= limits.perIpConnections) {
      throw replyError(421, '4.7.0', `${hostname} Too many connections from your address`);
    }
    if (limits.perIpRate > 0 && e.starts.length >= limits.perIpRate) {
      throw replyError(421, '4.7.0', `${hostname} Too many connections per minute from your address`);
    }
    if (limits.perIpRate > 0) e.starts.push(now);
    e.open++;
  }

  /** A session from `address` ended. */
  release(address: string): void {
    const key = clientAddress(address);
    const e = this.entries.get(key);
    if (!e) return;
    if (e.open > 0) e.open--;
    if (e.open === 0 && e.starts.length === 0) this.entries.delete(key);
  }

  private sweep(now: number): void {
    for (const [ip, e] of this.entries) {
      e.starts = e.starts.filter((t) => now - t < 60_000);
      if (e.open === 0 && e.starts.length === 0) this.entries.delete(ip);
    }
  }
}
