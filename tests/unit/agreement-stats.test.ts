import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  alphaBootstrapper,
  bootstrapCi,
  cohenKappa,
  consensusLabel,
  countTable,
  fleissBootstrapper,
  fleissKappa,
  kappaBootstrapper,
  itemAgreement,
  kappaOfPairs,
  krippendorffAlpha,
  linCcc,
  type Metric,
  type Rating,
} from '../../src/main/agreement/stats';
import { seededRandom } from '../../src/main/export/split';

// Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers, 12 units,
// values 1-5, missing data. Published: nominal .743, ordinal .815, interval .849.
const _ = null;
const KRIPPENDORFF_C: Rating[][] = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
  [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
];
const transpose = (m: Rating[][]): Rating[][] => m[0]!.map((_v, u) => m.map((row) => row[u]!));

// Fleiss (1971): 30 patients, 6 psychiatrists each, 5 diagnoses; published κ = .430.
// (The ratings as in statsmodels' test_inter_rater.py, which cites Fleiss 1971.)
const FLEISS_1971 = [
  [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
  [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
  [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
  [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
  [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
  [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]; // prettier-ignore

// The worked example of Fleiss' κ on Wikipedia (10 subjects, 14 raters, 5 categories): κ = .210.
const WIKIPEDIA_FLEISS = [
  [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]; // prettier-ignore

describe('agreement statistics against published worked examples', () => {
  it("Krippendorff's α on Krippendorff's example C (nominal .743, ordinal .815, interval .849)", () => {
    const units = transpose(KRIPPENDORFF_C);
    expect(krippendorffAlpha(units, 'nominal')).toBeCloseTo(0.743, 3);
    expect(krippendorffAlpha(units, 'ordinal')).toBeCloseTo(0.815, 3);
    expect(krippendorffAlpha(units, 'interval')).toBeCloseTo(0.849, 3);
  });

  it("Fleiss' κ on Fleiss (1971) (.430) and on Wikipedia's example (.210)", () => {
    expect(fleissKappa(countTable(FLEISS_1971, [1, 2, 3, 4, 5]))).toBeCloseTo(0.43, 3);
    expect(fleissKappa(WIKIPEDIA_FLEISS)).toBeCloseTo(0.21, 3);
  });

  it("Cohen's κ on the textbook 2×2 (20/5/10/15: .40) and SAS's 3×3 (.4842), pairwise deletion of missing", () => {
    const pairs: [number, number][] = [];
    const add = (a: number, b: number, n: number) => {
      for (let i = 0; i < n; i++) pairs.push([a, b]);
    };
    add(1, 1, 20);
    add(1, 2, 5);
    add(2, 1, 10);
    add(2, 2, 15);
    expect(kappaOfPairs(pairs)).toBeCloseTo(0.4, 10);
    const sas = [
      [0, 4, 1],
      [0, 8, 0],
      [0, 1, 5],
    ];
    const p2: [number, number][] = sas.flatMap((row, i) =>
      row.flatMap((n, j) => Array.from({ length: n }, (): [number, number] => [i, j])),
    );
    expect(kappaOfPairs(p2)).toBeCloseTo(0.4842, 4);
    const { kappa, n } = cohenKappa([1, 1, null, 2, 2], [1, 1, 2, 2, null]);
    expect(n).toBe(3);
    expect(kappa).toBeCloseTo(1, 10);
  });

  it("Lin's CCC: 1 for identical ratings, lower for a shift, undefined without variation", () => {
    expect(linCcc([1, 2, 3, 4], [1, 2, 3, 4]).ccc).toBeCloseTo(1, 12);
    // x = 1..4, y = x + 1: s_xy = 1.25, s_x² = s_y² = 1.25, (Δmean)² = 1 → 2.5 / 3.5
    expect(linCcc([1, 2, 3, 4], [2, 3, 4, 5]).ccc).toBeCloseTo(2.5 / 3.5, 12);
    expect(linCcc([3, 3, 3], [3, 3, 3]).ccc).toBeNull();
    expect(linCcc([1, null, 3], [2, 5, null]).n).toBe(1);
  });

  it('consensus: majority with ties unresolved, unanimity; item agreement is the share of agreeing pairs', () => {
    expect(consensusLabel([1, 1, 2], 'majority')).toBe(1);
    expect(consensusLabel([1, 2], 'majority')).toBeNull();
    expect(consensusLabel([1, 1, 2, 2, 3], 'majority')).toBeNull();
    expect(consensusLabel([1, 1, 2], 'unanimous')).toBeNull();
    expect(consensusLabel([2, 2, 2], 'unanimous')).toBe(2);
    expect(itemAgreement([1, 1, 2])).toBeCloseTo(1 / 3, 12);
    expect(itemAgreement([1])).toBeNull();
  });

  it('the fast bootstrap statistics equal the direct ones on any resample', () => {
    const random = seededRandom(3);
    const data = Array.from({ length: 30 }, () =>
      Array.from({ length: 4 }, (): Rating => (random() < 0.25 ? null : 1 + Math.floor(random() * 4))),
    );
    const table = countTable(data, [1, 2, 3, 4]);
    const pairs = data.filter((u) => u[0] !== null && u[1] !== null).map((u) => [u[0]!, u[1]!] as const);
    const stats = {
      nominal: alphaBootstrapper(data, 'nominal'),
      interval: alphaBootstrapper(data, 'interval'),
      ordinal: alphaBootstrapper(data, 'ordinal'),
    };
    const fleiss = fleissBootstrapper(table);
    const kappa = kappaBootstrapper(pairs);
    for (let rep = 0; rep < 5; rep++) {
      const sample = Int32Array.from(data, () => Math.floor(random() * data.length));
      const resampled = Array.from(sample, (i) => data[i]!);
      for (const metric of ['nominal', 'interval', 'ordinal'] as const)
        expect(stats[metric](sample)).toBeCloseTo(krippendorffAlpha(resampled, metric)!, 10);
      expect(fleiss(sample)).toBeCloseTo(fleissKappa(Array.from(sample, (i) => table[i]!))!, 10);
      const pairSample = Int32Array.from(pairs, () => Math.floor(random() * pairs.length));
      expect(kappa(pairSample)).toBeCloseTo(kappaOfPairs(Array.from(pairSample, (i) => pairs[i]!))!, 10);
    }
  });

  it('the bootstrap is seeded (same seed, same interval) and brackets the estimate', () => {
    const units = transpose(KRIPPENDORFF_C);
    const stat = alphaBootstrapper(units, 'nominal');
    const all = Int32Array.from(units.keys());
    expect(stat(all)).toBeCloseTo(krippendorffAlpha(units, 'nominal')!, 12);
    const a = bootstrapCi(units.length, stat, 500, seededRandom(7));
    const b = bootstrapCi(units.length, stat, 500, seededRandom(7));
    expect(a).toEqual(b);
    expect(a!.low).toBeLessThan(0.743);
    expect(a!.high).toBeGreaterThan(0.743);
  });
});

// ---------- against independent implementations on random data with missing ratings ----------

const PYTHON = '/usr/bin/python3';
const statsmodels =
  fs.existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import statsmodels.stats.inter_rater'], { encoding: 'utf8' }).status === 0;

/** Random units × raters categorical data, some ratings missing, seeded. */
function randomRatings(seed: number, units: number, raters: number, categories: number, missing: number) {
  const random = seededRandom(seed);
  return Array.from({ length: units }, () => {
    // a "true" class that raters pick more often than the others, so that agreement is not ~0
    const truth = Math.floor(random() * categories);
    return Array.from({ length: raters }, (): Rating => {
      if (random() < missing) return null;
      return random() < 0.6 ? truth : Math.floor(random() * categories);
    });
  });
}

/**
 * Krippendorff's α straight from the definition (Krippendorff 2011, eq. for D_o and D_e over all
 * pairable values), written independently of the coincidence-matrix code under test.
 */
function alphaByDefinition(units: Rating[][], metric: Metric): number {
  const pairable = units.map((u) => u.filter((v): v is number => v !== null)).filter((u) => u.length >= 2);
  const all = pairable.flat();
  const n = all.length;
  const sorted = [...new Set(all)].sort((a, b) => a - b);
  const freq = (v: number) => all.filter((x) => x === v).length;
  const delta = (a: number, b: number) => {
    if (metric === 'nominal') return a === b ? 0 : 1;
    if (metric === 'interval') return (a - b) ** 2;
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const between = sorted.filter((v) => v >= lo && v <= hi).reduce((s, v) => s + freq(v), 0);
    return (between - (freq(a) + freq(b)) / 2) ** 2;
  };
  let dObs = 0;
  for (const u of pairable) {
    let s = 0;
    for (let i = 0; i < u.length; i++) for (let j = 0; j < u.length; j++) if (i !== j) s += delta(u[i]!, u[j]!);
    dObs += s / (u.length - 1);
  }
  dObs /= n;
  let dExp = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) dExp += delta(all[i]!, all[j]!);
  dExp /= n * (n - 1);
  return 1 - dObs / dExp;
}

describe('agreement statistics against independent implementations (random data, missing ratings)', () => {
  it("Krippendorff's α (nominal, ordinal, interval) equals a direct implementation of the definition", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const data = randomRatings(seed, 40, 4, 5, 0.3);
      for (const metric of ['nominal', 'ordinal', 'interval'] as const)
        expect(krippendorffAlpha(data, metric)).toBeCloseTo(alphaByDefinition(data, metric), 10);
    }
  });

  it.skipIf(!statsmodels)(
    "Cohen's κ per pair and Fleiss' κ equal statsmodels' (python3-statsmodels; skipped only where it is not installed)",
    () => {
      const cases = Array.from({ length: 8 }, (_v, i) => {
        const data = randomRatings(100 + i, 60, 4, 4, 0.25);
        const complete = data.filter((u) => u.every((v) => v !== null)) as number[][];
        return { data, complete };
      });
      const script = `
import json, sys
import numpy as np
from statsmodels.stats.inter_rater import fleiss_kappa, cohens_kappa, aggregate_raters
out = []
for case in json.load(sys.stdin):
    data = case['data']
    pairs = {}
    raters = len(data[0])
    for a in range(raters):
        for b in range(a + 1, raters):
            t = np.zeros((4, 4))
            for u in data:
                if u[a] is not None and u[b] is not None:
                    t[u[a], u[b]] += 1
            pairs[f'{a}-{b}'] = float(cohens_kappa(t).kappa)
    table, _ = aggregate_raters(np.array(case['complete']), n_cat=4)
    out.append({'pairs': pairs, 'fleiss': float(fleiss_kappa(table, method='fleiss'))})
print(json.dumps(out))
`;
      const py = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const expected = JSON.parse(py.stdout) as { pairs: Record<string, number>; fleiss: number }[];
      cases.forEach((c, i) => {
        for (const [key, kappa] of Object.entries(expected[i]!.pairs)) {
          const [a, b] = key.split('-').map(Number) as [number, number];
          const ours = cohenKappa(
            c.data.map((u) => u[a]!),
            c.data.map((u) => u[b]!),
          );
          expect(ours.kappa).toBeCloseTo(kappa, 10);
        }
        expect(fleissKappa(countTable(c.complete, [0, 1, 2, 3]))).toBeCloseTo(expected[i]!.fleiss, 10);
      });
    },
  );
});
