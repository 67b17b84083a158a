import { isIPv6 } from 'node:net';
import type { MxCheck } from '../mx-check.js';
import type { AdminConfig, DomainSettings } from '../settings.js';
import type { User } from '../store/users.js';
import { type Html, html } from './html.js';
import { csrfField, domainTabs, type PageContext, page } from './layout.js';

/** What the rollout page shows. */
export interface RolloutData {
  settings: DomainSettings;
  relays: NonNullable<AdminConfig['relays']>;
  submission: string | undefined;
  /** The live MX check, or a reason there is none. */
  mx: MxCheck | { unavailable: string };
  /** Monitor-mode counts: `would-*` dispositions, and all transactions. */
  wouldBe: Record<string, number>;
  total: number;
  outbound: number;
  done: Map<string, { by: string; at: string }>;
}

/** The firewall rules (nftables, then iptables) that let only the relays reach port 25. */
export function firewallRules(destination: string, addresses: readonly string[]): string {
  const port = destination.slice(destination.lastIndexOf(':') + 1);
  const v4 = addresses.filter((a) => !isIPv6(a));
  const v6 = addresses.filter((a) => isIPv6(a));
  const lines = ['# nftables'];
  if (v4.length)
    lines.push(`nft add rule inet filter input ip saddr { ${v4.join(', ')} } tcp dport ${port} accept`);
  if (v6.length)
    lines.push(`nft add rule inet filter input ip6 saddr { ${v6.join(', ')} } tcp dport ${port} accept`);
  lines.push(`nft add rule inet filter input tcp dport ${port} drop`, '', '# iptables');
  for (const a of v4) lines.push(`iptables -A INPUT -p tcp --dport ${port} -s ${a} -j ACCEPT`);
  lines.push(`iptables -A INPUT -p tcp --dport ${port} -j DROP`);
  for (const a of v6) lines.push(`ip6tables -A INPUT -p tcp --dport ${port} -s ${a} -j ACCEPT`);
  if (v6.length) lines.push(`ip6tables -A INPUT -p tcp --dport ${port} -j DROP`);
  return lines.join('\n');
}

const status = (ok: boolean, yes: string, no: string): Html =>
  ok ? html`<span class="ok">✓ ${yes}</span>` : html`<span class="wait">● ${no}</span>`;

function doneBy(d: { by: string; at: string } | undefined): Html | string {
  return d ? html` <span class="note">(${d.by}, ${d.at.replace('T', ' ').slice(0, 16)} UTC)</span>` : '';
}

/** The rollout checklist of a domain, with live status. */
export function rolloutPage(ctx: PageContext & { user?: User }, domain: string, d: RolloutData): string {
  const addresses = d.relays.flatMap((r) => r.addresses);
  const firewallDone = d.done.get('firewall');
  const would = Object.entries(d.wouldBe);
  const wouldTotal = would.reduce((a, [, n]) => a + n, 0);
  const live = d.settings.monitor !== true;
  const mx = d.mx;
  const body = html`<h1>${domain}</h1>${domainTabs(domain, 'rollout')}
<h2>Rollout steps</h2>
<ol class="steps">
<li><strong>Monitor mode.</strong> ${status(!live, 'on', 'off')}
<p>In monitor mode the relays tag mail and never refuse it. So far ${d.total} message${d.total === 1 ? '' : 's'} seen; monitor mode would have refused <strong>${wouldTotal}</strong>${
    would.length
      ? html` (${would.map(
          ([k, n], i) =>
            html`${i ? ', ' : ''}${k.replace(/^would-/, '')}: <a href="/domains/${domain}/traffic?disposition=${k}">${n}</a>`,
        )})`
      : ''
  }. Each count links to those messages in the traffic log.</p></li>
<li><strong>DNS: point the MX records at the relays.</strong> ${
    'unavailable' in mx
      ? html`<span class="note">${mx.unavailable}</span>`
      : status(mx.ok, 'MX records are the relays', 'not yet')
  }
<p>Expected:</p><pre>${d.relays.map((r, i) => `${domain}. MX ${(i + 1) * 10} ${r.name}.`).join('\n') || '(no relays configured)'}</pre>
${
  'unavailable' in mx
    ? ''
    : html`<p>Found now:</p>${
        mx.records.length
          ? html`<pre>${mx.records.map((r) => `MX ${r.priority} ${r.exchange}`).join('\n')}</pre>`
          : html`<p>nothing</p>`
      }${mx.problems.length ? html`<ul>${mx.problems.map((p) => html`<li class="bad">${p}</li>`)}</ul>` : ''}`
}
<p class="note">The change reaches senders as the old records' TTL runs out. The command-line check: <code>mef check-dns ${domain} --expect ${d.relays.map((r) => r.name).join(',')}</code></p></li>
<li><strong>Go live.</strong> ${status(live, 'live: the filters refuse mail', 'still in monitor mode')}
${
  live
    ? ''
    : html`<form method="post" action="/domains/${domain}/rollout/go-live">${csrfField(ctx.csrf)}<button class="primary" type="submit">Go live (switch monitor mode off)</button></form>`
}</li>
<li><strong>Firewall: accept port 25 only from the relays.</strong> ${status(!!firewallDone, 'done', 'to do')}${doneBy(firewallDone)}
<p>Once the MX change has been seen for a few days, let your server (${d.settings.destination}) accept SMTP only from the relays' addresses (${addresses.join(', ') || 'none configured'}):</p>
<pre>${firewallRules(d.settings.destination, addresses)}</pre>
${
  firewallDone
    ? ''
    : html`<form method="post" action="/domains/${domain}/rollout/firewall">${csrfField(ctx.csrf)}<button class="primary" type="submit">Mark as done</button></form>`
}</li>
<li><strong>Outbound (optional): send through the relays.</strong> ${status(d.outbound > 0, `${d.outbound} outbound message${d.outbound === 1 ? '' : 's'} seen`, 'no outbound mail seen')}
<p>To have outgoing mail virus-scanned, set your server's smarthost (relayhost) to ${
    d.submission ? html`<code>${d.submission}</code>` : "the relays' submission address"
  } with SMTP AUTH over TLS.</p></li>
</ol>`;
  return page(ctx, `${domain} rollout`, body);
}
