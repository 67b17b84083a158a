/**
 * Reads the dump of scripts/spam-dump.ts, fits the learned scores of the time split's
 * "everything together" row as `learnScores` does (cumulative Bayes bands, out-of-fold
 * threshold at 0.4% of ham, scaled to 4), scores the test sets as `mef scan --scores` does,
 * and prints what the missed spam have in common.
 *
 *   npx tsx --conditions=@mef/source scripts/misses.ts [--dump FILE] [--l2 0.01] [--list]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BAYES_BAND_EDGES } from '../src/scores/learn.js';
import { fitLogistic, logit, type SparseRow } from '../src/scores/logistic.js';

const { values } = parseArgs({
  options: {
    dump: { type: 'string', default: '/tmp/mef-spam-dump.json' },
    l2: { type: 'string', default: '0.01' },
    rate: { type: 'string', default: '0.004' },
    edges: { type: 'string' },
    list: { type: 'boolean', default: false },
    mincount: { type: 'string', default: '1' },
    rare: { type: 'string', default: 'own' },
    drop: { type: 'string' },
    bayes: { type: 'string', default: 'bands' },
    fedges: { type: 'string', default: '0.05,0.2,0.5,0.8,0.95,0.99,0.999' },
  },
});
interface Row {
  id: string;
  folder: string;
  label: 'spam' | 'ham';
  train: boolean;
  fold: number;
  p: number | null;
  bayes: { p: number; s: number; h: number; used: number; rob?: number } | null;
  rules: { name: string; score: number }[];
  sa: { name: string; score: number }[];
  shape: Record<string, unknown> & { htmlOnly: boolean; images: number; text: number; bytes: number };
}
const rows: Row[] = JSON.parse(readFileSync(values.dump, 'utf8'));
const drop = values.drop ? new RegExp(values.drop) : undefined;
const symbols = (r: Row) => [...r.rules, ...r.sa].filter((h) => !drop?.test(h.name));
const train = rows.filter((r) => r.train);
const test = rows.filter((r) => !r.train);
const edges = values.edges ? values.edges.split(',').map(Number) : [...BAYES_BAND_EDGES];
const bandOf = (p: number) => {
  let b = 0;
  for (let i = 0; i < edges.length; i++) if (p >= (edges[i] as number)) b = i;
  return b;
};
const fedges = values.fedges.split(',').map(Number);
const mode = new Set(values.bayes.split(','));
/** Free-signed Bayes features beside the bands, by mode. */
const extra = (r: Row): string[] => {
  const b = r.bayes;
  if (!b) return [];
  const out: string[] = [];
  const cum = (name: string, v: number) => {
    for (const e of fedges) if (v >= e) out.push(`${name}>=${e}`);
  };
  if (mode.has('sh')) {
    cum('S', b.s);
    cum('H', b.h);
  }
  if (mode.has('rob') && b.rob !== undefined) cum('R', b.rob);
  if (mode.has('mixed') && b.s > 0.9 && b.h > 0.9) out.push('MIXED');
  if (mode.has('used')) for (const e of [20, 50, 100, 200, 400]) if (b.used >= e) out.push(`U>=${e}`);
  return out;
};
const names = new Map<string, number>();
const seen = new Map<string, number>();
for (const r of train) for (const h of symbols(r)) seen.set(h.name, (seen.get(h.name) ?? 0) + 1);
const rare = new Set([...seen].filter(([, c]) => c < Number(values.mincount)).map(([n]) => n));
for (const r of train)
  for (const h of symbols(r)) if (!names.has(h.name) && !rare.has(h.name)) names.set(h.name, names.size);
const free = new Set<number>();
for (const r of train)
  for (const n of extra(r))
    if (!names.has(n)) {
      free.add(names.size);
      names.set(n, names.size);
    }
const rc = names.size;
const nf = rc + edges.length;
const toRow = (r: Row): SparseRow => {
  const active = [
    ...new Set(
      [...symbols(r).map((h) => h.name), ...extra(r)].map((n) => names.get(n)).filter((i) => i !== undefined),
    ),
  ] as number[];
  if (r.p !== null && !mode.has('nobands')) for (let j = 0; j <= bandOf(r.p); j++) active.push(rc + j);
  return { active, spam: r.label === 'spam' };
};
const trows = train.map(toRow);
const nonNegative = new Set<number>();
for (let i = 0; i < nf; i++) if (i !== rc && !free.has(i)) nonNegative.add(i);
const opts = { nonNegative, l2: Number(values.l2) };
const oof = new Array(trows.length).fill(0);
for (let k = 0; k < 5; k++) {
  const m = fitLogistic(
    trows.filter((_, i) => train[i]?.fold !== k),
    nf,
    opts,
  );
  trows.forEach((r, i) => {
    if (train[i]?.fold === k) oof[i] = logit(m, r.active);
  });
}
const hamZ = oof.filter((_, i) => !trows[i]?.spam).sort((a, b) => b - a);
const cut = (hamZ[Math.floor(Number(values.rate) * hamZ.length)] as number) + 1e-6;
const oofLoss = oof.reduce((a, z, i) => a + Math.log1p(Math.exp(trows[i]?.spam ? -z : z)), 0) / oof.length;
const oofCaught = oof.filter((z, i) => trows[i]?.spam && z >= cut).length;
const oofFlagged = hamZ.filter((z) => z >= cut).length;
const model = fitLogistic(trows, nf, opts);
const scale = 4 / (cut - model.bias);
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const w = (i: number) => r3((model.weights[i] as number) * scale);
let cum = 0;
const band = edges.map((_, j) => {
  cum += model.weights[rc + j] as number;
  return r3(cum * scale);
});
const score = (r: Row) => {
  let s = 0;
  const seen = new Set<string>();
  for (const h of symbols(r)) {
    if (seen.has(h.name)) continue;
    seen.add(h.name);
    const i = names.get(h.name);
    s += i === undefined ? (rare.has(h.name) && values.rare === 'zero' ? 0 : h.score) : w(i);
  }
  if (r.p !== null && !mode.has('nobands')) s += band[bandOf(r.p)] as number;
  for (const n of extra(r)) {
    const i = names.get(n);
    if (i !== undefined) s += w(i);
  }
  return s;
};
const scored = test.map((r) => ({ r, s: score(r) }));
const spam = scored.filter((x) => x.r.label === 'spam');
const ham = scored.filter((x) => x.r.label === 'ham');
const caught = spam.filter((x) => x.s >= 4).length;
const flagged = ham.filter((x) => x.s >= 4).length;
const oracleCut = (ham.map((x) => x.s).sort((a, b) => b - a)[Math.floor(0.005 * ham.length)] ?? 0) + 1e-9;
console.log(
  `${values.bayes} l2 ${values.l2} rate ${values.rate}: oof loss ${oofLoss.toFixed(4)} ${oofCaught}/${trows.filter((r) => r.spam).length} ${oofFlagged}/${hamZ.length}; test spam ${caught}/${spam.length} (${((caught / spam.length) * 100).toFixed(1)}%), ham ${flagged}/${ham.length} (${((flagged / ham.length) * 100).toFixed(2)}%); oracle at 0.5% ham: ${spam.filter((x) => x.s >= oracleCut).length}; bands ${band.join(' ')}`,
);
const missed = spam.filter((x) => x.s < 4);
const count = (what: string, f: (x: { r: Row; s: number }) => boolean) =>
  console.log(
    `  ${what}: ${missed.filter(f).length} of ${missed.length} missed; ${spam.filter(f).length} of ${spam.length} spam; ${ham.filter(f).length} of ${ham.length} ham`,
  );
if (values.list) {
  count('HTML only', (x) => x.r.shape.htmlOnly);
  count('with images', (x) => x.r.shape.images > 0);
  count('text < 500 chars', (x) => x.r.shape.text < 500);
  count('no Bayes', (x) => x.r.p === null);
  count('Bayes < 0.5', (x) => x.r.p !== null && x.r.p < 0.5);
  count('Bayes >= 0.95', (x) => x.r.p !== null && x.r.p >= 0.95);
  count('score 3..4', (x) => x.s >= 3);
  const freq = new Map<string, number>();
  for (const x of missed) for (const h of symbols(x.r)) freq.set(h.name, (freq.get(h.name) ?? 0) + 1);
  const hamFreq = new Map<string, number>();
  for (const x of ham) for (const h of symbols(x.r)) hamFreq.set(h.name, (hamFreq.get(h.name) ?? 0) + 1);
  console.log('  symbols most hit by missed spam (missed/ham hits, learned score):');
  for (const [n, c] of [...freq].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    const i = names.get(n);
    console.log(`    ${n}: ${c} / ${hamFreq.get(n) ?? 0}, ${i === undefined ? 'own' : w(i)}`);
  }
  for (const x of missed.sort((a, b) => b.s - a.s)) {
    const sh = x.r.shape;
    console.log(
      `  ${x.s.toFixed(2)} p=${x.r.p?.toFixed(3)} ${sh.htmlOnly ? 'H' : '-'}${sh.images} t${sh.text} ${sh.charset} ${JSON.stringify(sh.subject)} ${symbols(
        x.r,
      )
        .map((h) => h.name)
        .join(',')}`,
    );
  }
}
