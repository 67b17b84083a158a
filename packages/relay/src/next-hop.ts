import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { replyError } from './replies.js';

/**
 * The next hop of a recipient domain through an explicit resolver (never the system's): the
 * lowest-preference MX, or the domain itself when it has none (RFC 5321 section 5.1), then its
 * address. A domain that does not exist is a 550; a DNS failure a 451 (the sender retries).
 */
export class NextHop {
  private readonly resolver = new Resolver({ timeout: 3_000, tries: 2 });

  constructor(
    servers: readonly string[],
    private readonly port = 25,
  ) {
    this.resolver.setServers([...servers]);
  }

  async of(domain: string): Promise<string> {
    let host = domain;
    try {
      const mx = await this.resolver.resolveMx(domain);
      const best = [...mx].sort((a, b) => a.priority - b.priority)[0];
      if (best?.exchange === '' || best?.exchange === '.') {
        throw replyError(556, '5.1.10', `${domain} accepts no mail (null MX)`);
      }
      if (best) host = best.exchange;
    } catch (err) {
      if ((err as { responseCode?: number }).responseCode) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND') throw replyError(550, '5.1.2', `Recipient domain ${domain} not found`);
      if (code !== 'ENODATA')
        throw replyError(451, '4.4.3', `DNS lookup of ${domain} failed (${code}), try again later`);
    }
    const ip = isIP(host) ? host : await this.address(host);
    return ip.includes(':') ? `[${ip}]:${this.port}` : `${ip}:${this.port}`;
  }

  private async address(host: string): Promise<string> {
    for (const lookup of [() => this.resolver.resolve4(host), () => this.resolver.resolve6(host)]) {
      try {
        const [ip] = await lookup();
        if (ip) return ip;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENODATA' && code !== 'ENOTFOUND') {
          throw replyError(451, '4.4.3', `DNS lookup of ${host} failed (${code}), try again later`);
        }
      }
    }
    throw replyError(451, '4.4.4', `No address for the mail server ${host}, try again later`);
  }
}
