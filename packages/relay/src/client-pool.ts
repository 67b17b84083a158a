import type { SmtpClient } from './smtp-client.js';

interface Idle {
  client: SmtpClient;
  timer: NodeJS.Timeout;
}

/**
 * Onward connections kept open between sessions, per destination and TLS policy, as Postfix's
 * connection cache does: a sender that opens one session per message (most MTAs do) then costs
 * no TCP connect, greeting and EHLO toward the destination. Only a connection with no transaction
 * open is kept, for `idleMs` at most, `perDestination` at most.
 */
export class ClientPool {
  private readonly idle = new Map<string, Idle[]>();

  constructor(
    private readonly idleMs = 5_000,
    private readonly perDestination = 16,
  ) {}

  take(key: string): SmtpClient | undefined {
    const list = this.idle.get(key);
    while (list?.length) {
      const e = list.pop() as Idle;
      clearTimeout(e.timer);
      if (e.client.usable) return e.client;
      e.client.close();
    }
    return undefined;
  }

  give(key: string, client: SmtpClient): void {
    if (!client.usable) return;
    let list = this.idle.get(key);
    if (!list) {
      list = [];
      this.idle.set(key, list);
    }
    if (list.length >= this.perDestination) {
      void client.quit();
      return;
    }
    const entry: Idle = {
      client,
      timer: setTimeout(() => {
        const l = this.idle.get(key);
        const i = l?.indexOf(entry) ?? -1;
        if (l && i >= 0) l.splice(i, 1);
        if (l && !l.length) this.idle.delete(key);
        void client.quit();
      }, this.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
  }

  /** Closes every kept connection. */
  async clear(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    for (const e of all) clearTimeout(e.timer);
    await Promise.all(all.map((e) => e.client.quit()));
  }
}
