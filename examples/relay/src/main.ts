/**
 * Runs the relay from a JSON configuration file:
 *   pnpm --filter @mef/example-relay start relay.json
 * with the built-in spam rules as its only stage; add clamav(), rbl() and the others from the
 * plugin packages in your own host.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from '@mef/core';
import { parseRelayConfig } from './config.js';
import { Relay } from './relay.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: relay CONFIG.json');
  process.exit(2);
}
let config: ReturnType<typeof parseRelayConfig>;
try {
  config = parseRelayConfig(JSON.parse(await readFile(file, 'utf8')));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const stamp: Plugin = {
  name: 'relay-stamp',
  message(ctx) {
    ctx.findings.addHeader('X-MEF-Relay', config.hostname);
  },
};
const relay = new Relay({ config, plugins: [stamp] });
const port = await relay.listen();
console.log(`relay listening on ${config.listen.host}:${port} for ${Object.keys(config.domains).join(', ')}`);
for (const [name, d] of Object.entries(config.domains)) {
  const dest = d.destination.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  console.log(
    `firewall for ${name}: on ${dest}, allow tcp/25 only from this relay's addresses, e.g. iptables -A INPUT -p tcp --dport 25 -s RELAY_IP -j ACCEPT; iptables -A INPUT -p tcp --dport 25 -j DROP`,
  );
}
const stop = () => {
  relay.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
