/** Health checks: each asks a server one bounded question on loopback and says whether it answered. */
import { promises as dns } from 'node:dns';
import { connect } from 'node:net';

/**
 * Connects, sends `payload` (nothing when empty) and resolves with what came back once `until`
 * matches, the peer closes, or `ms` pass. Never rejects: a refused connection reads as ''.
 */
export function exchange(port: number, payload: string, until: RegExp, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let out = '';
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, ms);
    s.on('connect', () => {
      if (payload) s.write(payload);
    });
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (until.test(out)) done();
    });
    s.on('error', done);
    s.on('close', done);
  });
}

/** True when the server on `port` answers `payload` with text matching `expect`. */
export async function answers(port: number, payload: string, expect: RegExp, ms = 1000): Promise<boolean> {
  return expect.test(await exchange(port, payload, expect, ms));
}

/** True when an SMTP server on `port` sends its greeting. */
export function greets(port: number, ms = 1000): Promise<boolean> {
  return answers(port, '', /^\d{3}[ -]/m, ms);
}

/**
 * True when the DNS server on 127.0.0.1:`port` answers a query for `name` (`A` or `SOA`).
 * NXDOMAIN, NODATA and REFUSED are answers too when `anyAnswer` (the server is up).
 */
export async function dnsAnswers(port: number, name: string, type: 'A' | 'SOA' | 'MX', anyAnswer = true) {
  const r = new dns.Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  try {
    if (type === 'SOA') await r.resolveSoa(name);
    else if (type === 'MX') await r.resolveMx(name);
    else await r.resolve4(name);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return anyAnswer && (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED');
  }
}
