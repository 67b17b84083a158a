import { createEngine, type Engine } from '@mef/core/hosts';
import { auth } from '@mef/plugin-auth';

/** An engine that checks SPF, DKIM, DMARC and ARC, and rejects what DMARC says to reject. */
export function createAuthEngine(dns: string): Engine {
  return createEngine().use(
    auth({
      servers: [dns], // your resolver, such as "127.0.0.1:53"; required
      hostname: 'mx1.example.net', // the authserv-id of Authentication-Results
      dmarcReject: 'reject', // p=reject failures get 550 5.7.1; the default only scores
      queryTimeout: 2000, // per DNS lookup, in ms
    }),
  );
}
