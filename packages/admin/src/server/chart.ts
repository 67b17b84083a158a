import type { DayCounts } from '../store/transactions.js';
import { escapeHtml } from './html.js';

/** Colours by disposition; `would-*` (monitor mode) in lighter shades of the real one. */
const COLOURS: Record<string, string> = {
  accept: '#2e7d32',
  reject: '#c62828',
  tempfail: '#ef6c00',
  quarantine: '#6a1b9a',
  discard: '#546e7a',
  'would-reject': '#ef9a9a',
  'would-quarantine': '#ce93d8',
  'would-discard': '#b0bec5',
  'would-tempfail': '#ffcc80',
};
const ORDER = Object.keys(COLOURS);

/** The dispositions present in the data, in a stable order. */
export function dispositionsOf(days: readonly DayCounts[]): string[] {
  const seen = new Set<string>();
  for (const d of days) for (const k of Object.keys(d.counts)) seen.add(k);
  return [...seen].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

function colour(disposition: string): string {
  return COLOURS[disposition] ?? '#455a64';
}

/**
 * A stacked bar chart of transactions per day by disposition, as an SVG string. It scales with its
 * container (viewBox, width 100%), needs no script, and carries a title per bar for screen readers.
 */
export function trafficChart(days: readonly DayCounts[]): string {
  const W = 600;
  const H = 220;
  const left = 40;
  const bottom = 24;
  const top = 10;
  const plotH = H - bottom - top;
  const kinds = dispositionsOf(days);
  const totals = days.map((d) => Object.values(d.counts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const step = (W - left - 10) / Math.max(1, days.length);
  const barW = Math.max(2, step * 0.7);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Transactions per day by disposition" class="chart">`,
  );
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH - f * plotH;
    parts.push(
      `<line x1="${left}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 4}" y="${y + 4}" font-size="11" text-anchor="end">${Math.round(f * max)}</text>`,
    );
  }
  days.forEach((d, i) => {
    const x = left + i * step + (step - barW) / 2;
    let y = top + plotH;
    for (const k of kinds) {
      const n = d.counts[k] ?? 0;
      if (!n) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colour(k)}"><title>${escapeHtml(`${d.day} ${k}: ${n}`)}</title></rect>`,
      );
    }
    if (days.length <= 14 || i % Math.ceil(days.length / 10) === 0) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${H - 8}" font-size="10" text-anchor="middle">${escapeHtml(d.day.slice(5))}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The chart's legend as HTML (colour swatch and disposition). */
export function chartLegend(days: readonly DayCounts[]): string {
  return dispositionsOf(days)
    .map(
      (k) =>
        `<span class="legend"><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${colour(k)}"/></svg> ${escapeHtml(k)}</span>`,
    )
    .join(' ');
}
