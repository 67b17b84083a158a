import { inject } from 'vitest';
import { type RblOptions, rbl, spamhausDbl, spamhausZen } from '../../src/index.js';

/** The lists, plugin and envelope the plugin tests share, against the test rbldnsd. */
export function lists() {
  const port = inject('rbldnsdPort');
  const servers = [`127.0.0.1:${port}`];
  const zen = (o: Partial<ReturnType<typeof spamhausZen>> = {}) => spamhausZen({ zone: 'zen.test', ...o });
  const dbl = (o: Partial<ReturnType<typeof spamhausDbl>> = {}) => spamhausDbl({ zone: 'dbl.test', ...o });
  const plugin = (o: Partial<RblOptions> = {}) => rbl({ servers, lists: [zen()], probeInterval: 0, ...o });
  const clean = { clientAddress: '192.0.2.77', helo: 'mail.clean.com', mailFrom: 'a@clean.com' };
  const noGreylist = { thresholds: { greylist: null } };
  return { port, servers, zen, dbl, plugin, clean, noGreylist };
}
