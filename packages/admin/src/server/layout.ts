import type { User } from '../store/users.js';
import { type Html, html } from './html.js';

/** The style sheet: readable on a phone, no script, no web fonts. */
export const STYLE = `
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#263238;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a,header button{color:#fff}
header .brand{font-weight:600;margin-right:auto}
header form{display:inline;margin:0}
header button{background:none;border:1px solid #90a4ae;border-radius:4px;padding:.2rem .6rem;font:inherit;cursor:pointer}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}
nav.tabs{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:1rem}
nav.tabs a{padding:.3rem .7rem;border-radius:4px;background:#eceff1;text-decoration:none;color:#263238}
nav.tabs a[aria-current]{background:#263238;color:#fff}
label{display:block;margin:.6rem 0 .2rem;font-weight:500}
input[type=text],input[type=password],input[type=number],input[type=search],select,textarea{width:100%;max-width:28rem;padding:.45rem;font:inherit;border:1px solid #b0bec5;border-radius:4px;background:#fff}
textarea{min-height:5rem}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.3rem 0}
button.primary,input[type=submit]{margin-top:1rem;background:#1565c0;color:#fff;border:0;border-radius:4px;padding:.55rem 1.1rem;font:inherit;cursor:pointer}
fieldset{border:1px solid #cfd8dc;border-radius:6px;margin:1rem 0;padding:.4rem 1rem 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:0 1rem}
.note{color:#546e7a;font-size:.9rem}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}.wait{color:#ef6c00;font-weight:600}
.flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:.5rem .8rem;border-radius:4px}
.error{background:#ffebee;border:1px solid #ef9a9a;padding:.5rem .8rem;border-radius:4px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e0e0e0;vertical-align:top}
pre{background:#eceff1;padding:.6rem;border-radius:4px;overflow-x:auto;font-size:.85rem}
ol.steps>li{margin-bottom:1.2rem}
.legend{white-space:nowrap;margin-right:.8rem;font-size:.9rem}
.chart text{fill:#37474f;font-family:system-ui,sans-serif}
`;

/** What every page gets: the signed-in user and the session's CSRF token. */
export interface PageContext {
  user?: User;
  csrf?: string;
}

/** A hidden CSRF field for a form. */
export function csrfField(csrf: string | undefined): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;
}

/** A whole page. */
export function page(ctx: PageContext, title: string, body: Html): string {
  const nav = ctx.user
    ? html`<a href="/domains">Domains</a>${ctx.user.operator ? html` <a href="/admin/users">Users</a>` : ''}
<span>${ctx.user.name}</span>
<form method="post" action="/logout">${csrfField(ctx.csrf)}<button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · MEF</title><link rel="stylesheet" href="/style.css"></head>
<body><header><span class="brand">MEF mail filter</span>${nav}</header>
<main>${body}</main></body></html>`.value;
}

/** The tabs of a domain's pages. */
export function domainTabs(domain: string, current: 'settings' | 'rollout' | 'traffic' | 'audit'): Html {
  const tab = (key: typeof current, path: string, label: string) =>
    html`<a href="/domains/${domain}${path}"${key === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs">${tab('settings', '', 'Settings')}${tab('rollout', '/rollout', 'Rollout')}${tab('traffic', '/traffic', 'Traffic')}${tab('audit', '/audit', 'Audit log')}</nav>`;
}
