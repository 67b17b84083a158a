import type { DomainSettings } from '../settings.js';
import type { AuditEntry } from '../store/domains.js';
import { type Html, html } from './html.js';
import { csrfField, domainTabs, type PageContext, page } from './layout.js';

const thresholdValue = (v: number | null | undefined): string =>
  v === null ? 'off' : v === undefined ? '' : String(v);

function checkbox(name: string, label: string, checked: boolean): Html {
  return html`<label class="check"><input type="checkbox" name="${name}"${checked ? html` checked` : ''}> ${label}</label>`;
}

/** The domain's page: its settings as one form. */
export function settingsPage(
  ctx: PageContext,
  domain: string,
  s: DomainSettings,
  notice: { saved?: number; errors?: string[] } = {},
): string {
  const sc = s.scanners ?? {};
  const th = s.thresholds ?? {};
  const body = html`<h1>${domain}</h1>${domainTabs(domain, 'settings')}
${notice.saved !== undefined ? html`<p class="flash" role="status">Saved: ${notice.saved} change${notice.saved === 1 ? '' : 's'}. The relays apply it within seconds.</p>` : ''}
${notice.errors?.length ? html`<div class="error" role="alert"><p>Not saved:</p><ul>${notice.errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<p>Mode: ${s.monitor ? html`<span class="wait">monitor</span> (mail is tagged, never refused)` : html`<span class="ok">live</span> (the filters refuse mail)`}</p>
<form method="post" action="/domains/${domain}/settings">${csrfField(ctx.csrf)}
<label for="destination">Destination server (host:port)</label>
<input type="text" id="destination" name="destination" value="${s.destination}" required>
${checkbox('monitor', 'Monitor mode: tag mail, never refuse it', s.monitor === true)}
<fieldset><legend>Score thresholds</legend>
<p class="note">Empty: the relay's default. <code>off</code>: the action is switched off.</p>
<div class="grid">
<div><label for="t-reject">Reject at</label><input type="text" inputmode="decimal" id="t-reject" name="thresholds.reject" value="${thresholdValue(th.reject)}"></div>
<div><label for="t-add">Add header at</label><input type="text" inputmode="decimal" id="t-add" name="thresholds.addHeader" value="${thresholdValue(th.addHeader)}"></div>
<div><label for="t-grey">Greylist at</label><input type="text" inputmode="decimal" id="t-grey" name="thresholds.greylist" value="${thresholdValue(th.greylist)}"></div>
</div></fieldset>
<fieldset><legend>Scanners</legend>
${checkbox('scanners.antivirus', 'Antivirus', sc.antivirus !== false)}
${checkbox('scanners.spam', 'Spam rules and scores', sc.spam !== false)}
${checkbox('scanners.rbl', 'DNS blocklists', sc.rbl !== false)}
${checkbox('scanners.greylist', 'Greylisting', sc.greylist !== false)}
</fieldset>
<fieldset><legend>Senders</legend>
<p class="note">One per line: a full address or <code>@domain</code>.</p>
<label for="allow">Always accept</label><textarea id="allow" name="senders.allow">${(s.senders?.allow ?? []).join('\n')}</textarea>
<label for="block">Always refuse</label><textarea id="block" name="senders.block">${(s.senders?.block ?? []).join('\n')}</textarea>
</fieldset>
<fieldset><legend>Delivery</legend>
<label for="tls">TLS to the destination</label>
<select id="tls" name="tls">
<option value=""${s.tls === undefined ? html` selected` : ''}>default (opportunistic)</option>
<option value="opportunistic"${s.tls === 'opportunistic' ? html` selected` : ''}>opportunistic</option>
<option value="required"${s.tls === 'required' ? html` selected` : ''}>required</option>
</select>
<label for="quarantine">Quarantine address at the destination (empty: none)</label>
<input type="text" id="quarantine" name="quarantine" value="${s.quarantine ?? ''}">
</fieldset>
<button class="primary" type="submit">Save settings</button>
</form>`;
  return page(ctx, domain, body);
}

/** The audit log of a domain. */
export function auditPage(ctx: PageContext, domain: string, rows: readonly AuditEntry[]): string {
  const body = html`<h1>${domain}</h1>${domainTabs(domain, 'audit')}
<h2>Audit log</h2>
${
  rows.length
    ? html`<div class="scroll"><table><thead><tr><th>When (UTC)</th><th>Who</th><th>Setting</th><th>Old</th><th>New</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.time.replace('T', ' ').slice(0, 19)}</td><td>${r.username}</td><td>${r.field}</td><td>${r.old ?? '—'}</td><td>${r.new ?? '—'}</td></tr>`)}
</tbody></table></div>`
    : html`<p>No changes yet.</p>`
}`;
  return page(ctx, `${domain} audit log`, body);
}

/** The list of the user's domains (and, for an operator, the form to add one). */
export function domainListPage(ctx: PageContext, domains: readonly string[], notice?: string): string {
  const body = html`<h1>Your domains</h1>
${notice ? html`<p class="flash" role="status">${notice}</p>` : ''}
${domains.length ? html`<ul>${domains.map((d) => html`<li><a href="/domains/${d}">${d}</a></li>`)}</ul>` : html`<p>No domains yet.</p>`}
${
  ctx.user?.operator
    ? html`<h2>Add a domain</h2>
<form method="post" action="/admin/domains">${csrfField(ctx.csrf)}
<label for="name">Domain</label><input type="text" id="name" name="name" required>
<label for="destination">Destination server (host:port)</label><input type="text" id="destination" name="destination" required>
<p class="note">A new domain starts in monitor mode.</p>
<button class="primary" type="submit">Add domain</button></form>`
    : ''
}`;
  return page(ctx, 'Domains', body);
}

/** The login form. */
export function loginPage(csrf: string, error?: string): string {
  const body = html`<h1>Log in</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login">${csrfField(csrf)}
<label for="username">User name</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button class="primary" type="submit">Log in</button></form>`;
  return page({}, 'Log in', body);
}

/** A short page for 403, 404, 429 and 400 answers. */
export function messagePage(ctx: PageContext, title: string, text: string): string {
  return page(ctx, title, html`<h1>${title}</h1><p>${text}</p><p><a href="/domains">Your domains</a></p>`);
}
