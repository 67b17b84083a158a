import type { DayCounts, TransactionQuery, TransactionRow } from '../store/transactions.js';
import type { User } from '../store/users.js';
import { chartLegend, dispositionsOf, trafficChart } from './chart.js';
import { html, raw } from './html.js';
import { csrfField, domainTabs, type PageContext, page } from './layout.js';

const DISPOSITIONS = [
  'accept',
  'reject',
  'tempfail',
  'quarantine',
  'quarantine-tagged',
  'discard',
  'would-reject',
  'would-tempfail',
  'would-quarantine',
  'would-discard',
];

/** The traffic page: the chart of the last days and the searchable verdict log. */
export function trafficPage(
  ctx: PageContext,
  domain: string,
  days: readonly DayCounts[],
  query: TransactionQuery,
  rows: readonly TransactionRow[],
  pageSize: number,
): string {
  const kinds = dispositionsOf(days);
  const last = rows.at(-1);
  const next = new URLSearchParams();
  if (query.text) next.set('q', query.text);
  if (query.disposition) next.set('disposition', query.disposition);
  if (last) next.set('before', String(last.id));
  const body = html`<h1>${domain}</h1>${domainTabs(domain, 'traffic')}
<h2>Messages per day (last ${days.length} days, UTC)</h2>
${raw(trafficChart(days))}
<p>${raw(chartLegend(days))}</p>
<details><summary>The numbers</summary><div class="scroll"><table><thead><tr><th>Day</th>${kinds.map((k) => html`<th>${k}</th>`)}</tr></thead><tbody>
${days.map((d) => html`<tr><td>${d.day}</td>${kinds.map((k) => html`<td>${d.counts[k] ?? 0}</td>`)}</tr>`)}
</tbody></table></div></details>
<h2>Verdict log</h2>
<form method="get" action="/domains/${domain}/traffic" role="search">
<label for="q">Search sender, recipient, Message-ID, client or symbol</label>
<input type="search" id="q" name="q" value="${query.text ?? ''}">
<label for="disposition">Disposition</label>
<select id="disposition" name="disposition"><option value="">any</option>
${DISPOSITIONS.map((k) => html`<option value="${k}"${query.disposition === k ? html` selected` : ''}>${k}</option>`)}
</select>
<button class="primary" type="submit">Search</button></form>
${
  rows.length
    ? html`<div class="scroll"><table><thead><tr><th>Time (UTC)</th><th>Disposition</th><th>Score</th><th>Sender</th><th>Recipients</th><th>Client</th><th>Size</th><th>Message-ID</th><th>Symbols</th></tr></thead><tbody>
${rows.map(
  (r) =>
    html`<tr><td>${r.time.replace('T', ' ').slice(0, 19)}</td><td>${r.disposition}${r.direction === 'outbound' ? ' (out)' : ''}</td><td>${r.score}</td><td>${r.sender || '<>'}</td><td>${r.recipients.join(', ')}</td><td>${r.client}</td><td>${r.size}</td><td>${r.messageId ?? ''}</td><td>${r.symbols.join(' ')}</td></tr>`,
)}
</tbody></table></div>
${rows.length === pageSize ? html`<p><a href="/domains/${domain}/traffic?${next.toString()}">Older</a></p>` : ''}`
    : html`<p>No matching messages.</p>`
}
<p class="note">The log keeps metadata only; the relays never store mail.</p>`;
  return page(ctx, `${domain} traffic`, body);
}

/** The operator's user list and the form to add a user. */
export function usersPage(
  ctx: PageContext,
  users: ReadonlyArray<User & { domains: string[] }>,
  notice?: { ok?: string; error?: string },
): string {
  const body = html`<h1>Users</h1>
${notice?.ok ? html`<p class="flash" role="status">${notice.ok}</p>` : ''}
${notice?.error ? html`<p class="error" role="alert">${notice.error}</p>` : ''}
<div class="scroll"><table><thead><tr><th>Name</th><th>Role</th><th>Domains</th></tr></thead><tbody>
${users.map((u) => html`<tr><td>${u.name}</td><td>${u.operator ? 'operator' : 'domain administrator'}</td><td>${u.operator ? 'all' : u.domains.join(', ')}</td></tr>`)}
</tbody></table></div>
<h2>Add a user</h2>
<form method="post" action="/admin/users">${csrfField(ctx.csrf)}
<label for="name">User name</label><input type="text" id="name" name="name" required>
<label for="password">Password (at least 10 characters)</label><input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="domains">Domains (comma-separated)</label><input type="text" id="domains" name="domains">
<label class="check"><input type="checkbox" name="operator"> Operator (sees every domain, adds domains and users)</label>
<button class="primary" type="submit">Add user</button></form>`;
  return page(ctx, 'Users', body);
}
