import type { BlockList } from 'node:net';
import { inNetworks } from '@mef/core';

/**
 * Whether a client address is in a list of networks, remembered per address while the list
 * stays the same object (a reload brings a new one), up to `max` addresses. A check builds a
 * `SocketAddress`; when every message comes on a new connection, as from most MTAs, that was
 * about 0.7% of a relayed message's CPU (bench/results/relay.md).
 */
export class TrustedNetworks {
  private readonly seen = new Map<string, boolean>();
  private list: BlockList | undefined;

  constructor(private readonly max = 4096) {}

  has(networks: BlockList, address: string): boolean {
    if (this.list !== networks || this.seen.size >= this.max) {
      this.seen.clear();
      this.list = networks;
    }
    let yes = this.seen.get(address);
    if (yes === undefined) {
      yes = inNetworks(networks, address);
      this.seen.set(address, yes);
    }
    return yes;
  }
}
