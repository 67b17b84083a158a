/**
 * Experiment (issue 14): bucketed HTML shape of a message (images, links, visible text, HTML
 * only) as extra learnable symbols beside SpamAssassin's rules, for the HTML-only spam with
 * links and images the time split misses. `evaluate --split time --shape` adds them.
 */
import { SaMessage } from '../src/sa/message.js';
import type { SaRuleSet } from '../src/sa/rule-set.js';
import type { ExtraRuleSource } from './time-split.js';

function bucket(n: number, edges: readonly number[]): string {
  let i = 0;
  while (i < edges.length && n >= (edges[i] as number)) i++;
  if (i === 0) return `LT${edges[0]}`;
  return i === edges.length ? `${edges[i - 1]}P` : `${edges[i - 1]}_${(edges[i] as number) - 1}`;
}

/** The shape symbols of one raw message (none without HTML). */
export function shapeSymbols(raw: Buffer): string[] {
  const msg = new SaMessage(raw);
  const html = msg.html();
  if (!html.length) return [];
  const images = html.reduce((a, h) => a + h.images, 0);
  const links = html.reduce((a, h) => a + h.stats.anchor.length, 0);
  const text = html.reduce((a, h) => a + h.textChars, 0);
  const htmlOnly = !msg.mime.parts.some((p) => p.type === 'text/plain');
  const out = [
    `MEF_SHAPE_IMG_${bucket(images, [1, 2, 4, 10])}`,
    `MEF_SHAPE_LINK_${bucket(links, [1, 3, 10, 30])}`,
    `MEF_SHAPE_TEXT_${bucket(text, [200, 1000, 3000])}`,
  ];
  if (htmlOnly && images > 0 && links > 0) {
    out.push('MEF_SHAPE_HTML_ONLY_IMG_LINK');
    if (text < 1000) out.push('MEF_SHAPE_HTML_ONLY_IMG_LINK_SHORT');
  }
  return out;
}

/** The source with the shape symbols added to every message's hits (score 0: learned only). */
export function withShape(source: ExtraRuleSource): ExtraRuleSource {
  return {
    name: source.name,
    run(raw) {
      const r = source.run(raw);
      return { ...r, hits: [...r.hits, ...shapeSymbols(raw).map((name) => ({ name, score: 0 }))] };
    },
  };
}

/** Experiment: SpamAssassin's sub-rules (`__NAME`) that hit, as extra learnable symbols (score 0). */
export function withSubRules(source: ExtraRuleSource, ruleSet: SaRuleSet): ExtraRuleSource {
  return {
    name: source.name,
    run(raw) {
      const r = source.run(raw);
      const subs = [...ruleSet.check(raw).all.keys()].filter((n) => n.startsWith('__'));
      return { ...r, hits: [...r.hits, ...subs.map((n) => ({ name: `SA_${n.toUpperCase()}`, score: 0 }))] };
    },
  };
}
