/** One training row: the indices of the features present (each counts 1) and the class. */
export interface SparseRow {
  readonly active: readonly number[];
  readonly spam: boolean;
}

/** Options of {@link fitLogistic}. */
export interface LogisticOptions {
  /** L2 penalty on the weights (not on the bias). Default 0.01. */
  readonly l2?: number;
  /** Full-batch gradient steps. Default 3,000. */
  readonly iterations?: number;
  /** Step size. Default 0.5. */
  readonly rate?: number;
  /** Weights that may not go below 0 (rules are evidence of spam only). */
  readonly nonNegative?: ReadonlySet<number>;
}

/** A fitted model: logit = bias + sum of the weights of the features present. */
export interface LogisticModel {
  readonly bias: number;
  readonly weights: readonly number[];
}

/** The logit of one row under a model. */
export function logit(model: LogisticModel, active: readonly number[]): number {
  let z = model.bias;
  for (const i of active) z += model.weights[i] ?? 0;
  return z;
}

/**
 * Logistic regression over binary features by full-batch gradient descent with Adam steps,
 * an L2 penalty, and weights projected back to 0 where they must not be negative. Bounded:
 * a fixed number of passes over the rows, each O(active features).
 */
export function fitLogistic(
  rows: readonly SparseRow[],
  features: number,
  options: LogisticOptions = {},
): LogisticModel {
  const l2 = options.l2 ?? 0.01;
  const iterations = options.iterations ?? 3000;
  const rate = options.rate ?? 0.05;
  const nonNeg = options.nonNegative ?? new Set<number>();
  const n = features + 1; // the last slot is the bias
  const w = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const g = new Float64Array(n);
  const b1 = 0.9;
  const b2 = 0.999;
  const count = Math.max(rows.length, 1);
  for (let it = 1; it <= iterations; it++) {
    g.fill(0);
    for (const r of rows) {
      let z = w[features] as number;
      for (const i of r.active) z += w[i] as number;
      const p = 1 / (1 + Math.exp(-z));
      const err = p - (r.spam ? 1 : 0);
      for (const i of r.active) g[i] = (g[i] as number) + err;
      g[features] = (g[features] as number) + err;
    }
    for (let i = 0; i < n; i++) {
      let gi = (g[i] as number) / count;
      if (i < features) gi += l2 * (w[i] as number);
      m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
      v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
      const mh = (m[i] as number) / (1 - b1 ** it);
      const vh = (v[i] as number) / (1 - b2 ** it);
      w[i] = (w[i] as number) - (rate * mh) / (Math.sqrt(vh) + 1e-8);
      if (nonNeg.has(i) && (w[i] as number) < 0) w[i] = 0;
    }
  }
  return { bias: w[features] as number, weights: Array.from(w.subarray(0, features)) };
}
