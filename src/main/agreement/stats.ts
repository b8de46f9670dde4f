/**
 * Inter-rater agreement statistics, as pure functions over plain arrays.
 *
 * Ratings come as a units × raters matrix: `ratings[u][r]` is rater r's value for unit u, or null when
 * that rater did not rate it. Categorical values are any numbers (label ids); numeric values (valence,
 * arousal, dominance) are the numbers themselves. Every function returns null where the statistic is
 * undefined (too few pairable values, no variation), never NaN.
 */

export type Rating = number | null;
export type Metric = 'nominal' | 'interval' | 'ordinal';

/** Cohen's κ for two raters over the units both rated (pairwise deletion). */
export function cohenKappa(a: readonly Rating[], b: readonly Rating[]): { kappa: number | null; n: number } {
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined) pairs.push([x, y]);
  }
  return { kappa: kappaOfPairs(pairs), n: pairs.length };
}

/** Cohen's κ of (x, y) pairs: (p_o - p_e) / (1 - p_e), marginals from the pairs themselves. */
export function kappaOfPairs(pairs: readonly (readonly [number, number])[]): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  const ma = new Map<number, number>();
  const mb = new Map<number, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree++;
    ma.set(x, (ma.get(x) ?? 0) + 1);
    mb.set(y, (mb.get(y) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [c, na] of ma) pe += (na / n) * ((mb.get(c) ?? 0) / n);
  if (1 - pe < 1e-12) return null;
  return (po - pe) / (1 - pe);
}

/**
 * Fleiss' κ from a units × categories table of counts. Units may have different numbers of ratings
 * (units with fewer than 2 are skipped): P_i = Σ_j n_ij(n_ij − 1) / (n_i(n_i − 1)), P̄ its mean,
 * p_j = Σ_i n_ij / Σ_i n_i, P̄_e = Σ_j p_j². With equal n_i this is exactly Fleiss (1971).
 */
export function fleissKappa(table: readonly (readonly number[])[]): number | null {
  let pSum = 0;
  let units = 0;
  let total = 0;
  const colTotals: number[] = [];
  for (const row of table) {
    const n = row.reduce((s, c) => s + c, 0);
    if (n < 2) continue;
    let agree = 0;
    row.forEach((c, j) => {
      agree += c * (c - 1);
      colTotals[j] = (colTotals[j] ?? 0) + c;
    });
    pSum += agree / (n * (n - 1));
    total += n;
    units++;
  }
  if (units === 0) return null;
  const pBar = pSum / units;
  let pe = 0;
  for (const c of colTotals) if (c) pe += (c / total) ** 2;
  if (1 - pe < 1e-12) return null;
  return (pBar - pe) / (1 - pe);
}

/** Units × raters ratings → units × categories counts (categories in the order given). */
export function countTable(ratings: readonly (readonly Rating[])[], categories: readonly number[]): number[][] {
  const index = new Map(categories.map((c, i) => [c, i]));
  return ratings.map((row) => {
    const counts = new Array<number>(categories.length).fill(0);
    for (const v of row) if (v !== null && index.has(v)) counts[index.get(v)!]!++;
    return counts;
  });
}

/**
 * The coincidence matrix of Krippendorff's α: every ordered pair of values within a unit (of m_u ≥ 2
 * values) adds 1/(m_u − 1). Values are the distinct ones found, in ascending order.
 */
export function coincidences(units: readonly (readonly Rating[])[]): { values: number[]; o: number[][] } {
  const values = [...new Set(units.flat().filter((v): v is number => v !== null && v !== undefined))].sort(
    (a, b) => a - b,
  );
  const index = new Map(values.map((v, i) => [v, i]));
  const o = values.map(() => new Array<number>(values.length).fill(0));
  for (const unit of units) addUnit(o, unit, index);
  return { values, o };
}

function addUnit(o: number[][], unit: readonly Rating[], index: Map<number, number>, weight = 1): void {
  const counts = new Map<number, number>();
  let m = 0;
  for (const v of unit) {
    if (v === null || v === undefined) continue;
    const i = index.get(v)!;
    counts.set(i, (counts.get(i) ?? 0) + 1);
    m++;
  }
  if (m < 2) return;
  for (const [c, nc] of counts)
    for (const [k, nk] of counts) o[c]![k]! += (weight * (c === k ? nc * (nc - 1) : nc * nk)) / (m - 1);
}

/** Squared distance δ²(c, k) between the c-th and k-th value under the metric. */
function distances(values: readonly number[], nc: readonly number[], metric: Metric): number[][] {
  return values.map((vc, c) =>
    values.map((vk, k) => {
      if (metric === 'nominal') return c === k ? 0 : 1;
      if (metric === 'interval') return (vc - vk) ** 2;
      const [lo, hi] = c < k ? [c, k] : [k, c];
      let s = 0;
      for (let g = lo; g <= hi; g++) s += nc[g]!;
      return (s - (nc[c]! + nc[k]!) / 2) ** 2;
    }),
  );
}

/** α = 1 − D_o / D_e from a coincidence matrix. */
export function alphaOfCoincidences(values: readonly number[], o: readonly (readonly number[])[], metric: Metric) {
  const nc = o.map((row) => row.reduce((s, x) => s + x, 0));
  const n = nc.reduce((s, x) => s + x, 0);
  if (n <= 1) return null;
  const d = distances(values, nc, metric);
  let dObs = 0;
  let dExp = 0;
  for (let c = 0; c < values.length; c++)
    for (let k = 0; k < values.length; k++) {
      dObs += o[c]![k]! * d[c]![k]!;
      dExp += nc[c]! * nc[k]! * d[c]![k]!;
    }
  dObs /= n;
  dExp /= n * (n - 1);
  if (dExp < 1e-15) return null;
  return 1 - dObs / dExp;
}

/** Krippendorff's α over units × raters (missing ratings allowed; units with < 2 values add nothing). */
export function krippendorffAlpha(units: readonly (readonly Rating[])[], metric: Metric): number | null {
  const { values, o } = coincidences(units);
  return alphaOfCoincidences(values, o, metric);
}

/** Lin's concordance correlation coefficient (population moments), over pairs both present. */
export function linCcc(x: readonly Rating[], y: readonly Rating[]): { ccc: number | null; n: number } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (a !== null && a !== undefined && b !== null && b !== undefined) {
      xs.push(a);
      ys.push(b);
    }
  }
  const n = xs.length;
  if (n < 2) return { ccc: null, n };
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  const denom = sxx / n + syy / n + (mx - my) ** 2;
  if (denom < 1e-15) return { ccc: null, n };
  return { ccc: (2 * sxy) / n / denom, n };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * The label most votes went to, or null on a tie for the top (or no votes). `unanimous` asks that
 * every vote be the same.
 */
export function consensusLabel(votes: readonly number[], rule: 'majority' | 'unanimous'): number | null {
  if (votes.length === 0) return null;
  const counts = new Map<number, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  if (rule === 'unanimous') return counts.size === 1 ? votes[0]! : null;
  let best: number | null = null;
  let top = 0;
  let tie = false;
  for (const [label, c] of counts) {
    if (c > top) {
      best = label;
      top = c;
      tie = false;
    } else if (c === top) tie = true;
  }
  return tie ? null : best;
}

/** The share of agreeing pairs among one unit's votes (Fleiss' P_i); null below two votes. */
export function itemAgreement(votes: readonly number[]): number | null {
  const n = votes.length;
  if (n < 2) return null;
  const counts = new Map<number, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  let s = 0;
  for (const c of counts.values()) s += c * (c - 1);
  return s / (n * (n - 1));
}

/**
 * Percentile bootstrap over units: `statistic` is evaluated on `replicates` resamples (units drawn with
 * replacement, `random` a seeded PRNG); replicates where it is undefined are dropped. Returns the 2.5th
 * and 97.5th percentiles (null when fewer than 20 replicates were defined).
 */
export function bootstrapCi(
  unitCount: number,
  statistic: (sample: Int32Array) => number | null,
  replicates: number,
  random: () => number,
  level = 0.95,
): { low: number; high: number; replicates: number } | null {
  if (unitCount === 0) return null;
  const out: number[] = [];
  const sample = new Int32Array(unitCount);
  for (let b = 0; b < replicates; b++) {
    for (let i = 0; i < unitCount; i++) sample[i] = Math.floor(random() * unitCount);
    const s = statistic(sample);
    if (s !== null && Number.isFinite(s)) out.push(s);
  }
  if (out.length < 20) return null;
  out.sort((a, b) => a - b);
  const q = (p: number) => {
    const pos = p * (out.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return out[lo]! + (out[hi]! - out[lo]!) * (pos - lo);
  };
  const tail = (1 - level) / 2;
  return { low: q(tail), high: q(1 - tail), replicates: out.length };
}

/**
 * Krippendorff's α evaluated fast on bootstrap samples: each unit's coincidence contribution is
 * computed once (sparse: cell, weight), a sample sums the contributions of the units it drew.
 */
export function alphaBootstrapper(units: readonly (readonly Rating[])[], metric: Metric) {
  const { values } = coincidences(units);
  const index = new Map(values.map((v, i) => [v, i]));
  const k = values.length;
  const offsets = new Int32Array(units.length + 1);
  const cells: number[] = [];
  const weights: number[] = [];
  const o = values.map(() => new Array<number>(k).fill(0));
  units.forEach((unit, u) => {
    addUnit(o, unit, index);
    for (let c = 0; c < k; c++)
      for (let d = 0; d < k; d++)
        if (o[c]![d]! !== 0) {
          cells.push(c * k + d);
          weights.push(o[c]![d]!);
          o[c]![d] = 0;
        }
    offsets[u + 1] = cells.length;
  });
  const cell = Int32Array.from(cells);
  const weight = Float64Array.from(weights);
  return (sample: Int32Array): number | null => {
    const sum = new Float64Array(k * k);
    for (const u of sample) for (let j = offsets[u]!; j < offsets[u + 1]!; j++) sum[cell[j]!]! += weight[j]!;
    const matrix = values.map((_, r) => Array.from(sum.subarray(r * k, (r + 1) * k)));
    return alphaOfCoincidences(values, matrix, metric);
  };
}

/** Cohen's κ on bootstrap samples of (x, y) pairs, through a contingency table (no per-sample maps). */
export function kappaBootstrapper(pairs: readonly (readonly [number, number])[]) {
  const values = [...new Set(pairs.flat())].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const k = values.length;
  const code = Int32Array.from(pairs, ([x, y]) => index.get(x)! * k + index.get(y)!);
  return (sample: Int32Array): number | null => {
    const n = sample.length;
    if (n === 0) return null;
    const table = new Float64Array(k * k);
    for (const i of sample) table[code[i]!]! += 1;
    let agree = 0;
    let pe = 0;
    for (let c = 0; c < k; c++) {
      agree += table[c * k + c]!;
      let row = 0;
      let col = 0;
      for (let d = 0; d < k; d++) {
        row += table[c * k + d]!;
        col += table[d * k + c]!;
      }
      pe += (row / n) * (col / n);
    }
    if (1 - pe < 1e-12) return null;
    return (agree / n - pe) / (1 - pe);
  };
}

/** Fleiss' κ on bootstrap samples of units (same generalisation as fleissKappa). */
export function fleissBootstrapper(table: readonly (readonly number[])[]) {
  const k = table[0]?.length ?? 0;
  const pI = new Float64Array(table.length).fill(NaN);
  table.forEach((row, u) => {
    const n = row.reduce((s, c) => s + c, 0);
    if (n >= 2) pI[u] = row.reduce((s, c) => s + c * (c - 1), 0) / (n * (n - 1));
  });
  return (sample: Int32Array): number | null => {
    let pSum = 0;
    let units = 0;
    let total = 0;
    const cols = new Float64Array(k);
    for (const u of sample) {
      if (Number.isNaN(pI[u]!)) continue;
      pSum += pI[u]!;
      units++;
      const row = table[u]!;
      for (let j = 0; j < k; j++) {
        cols[j]! += row[j]!;
        total += row[j]!;
      }
    }
    if (units === 0) return null;
    let pe = 0;
    for (const c of cols) pe += (c / total) ** 2;
    if (1 - pe < 1e-12) return null;
    return (pSum / units - pe) / (1 - pe);
  };
}
