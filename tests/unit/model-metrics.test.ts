import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  binOf,
  calibration,
  classificationMetrics,
  precisionAbove,
  thresholdForPrecision,
} from '../../src/main/evaluation/metrics';
import { seededRandom } from '../../src/main/export/split';

describe('classification metrics on a hand-computed case', () => {
  // 3 classes, 10 items. Confusion (rows human, columns model):
  //   c0: [3, 1, 0]   support 4
  //   c1: [1, 2, 1]   support 4
  //   c2: [0, 0, 2]   support 2
  const truth = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
  const pred = [0, 0, 0, 1, 0, 1, 1, 2, 2, 2];
  const m = classificationMetrics(truth, pred, 3);

  it('confusion matrix, counts and row-normalised', () => {
    expect(m.confusion).toEqual([
      [3, 1, 0],
      [1, 2, 1],
      [0, 0, 2],
    ]);
    expect(m.confusionNormalised).toEqual([
      [0.75, 0.25, 0],
      [0.25, 0.5, 0.25],
      [0, 0, 1],
    ]);
  });

  it('per class precision, recall, F1 and support', () => {
    // c0: P 3/4, R 3/4, F1 .75; c1: P 2/3, R 1/2, F1 4/7; c2: P 2/3, R 1, F1 .8
    expect(m.perClass.map((c) => c.support)).toEqual([4, 4, 2]);
    expect(m.perClass[0]).toMatchObject({ precision: 0.75, recall: 0.75, f1: 0.75 });
    expect(m.perClass[1]!.precision).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[1]!.recall).toBe(0.5);
    expect(m.perClass[1]!.f1).toBeCloseTo(4 / 7, 12);
    expect(m.perClass[2]!.precision).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[2]!.recall).toBe(1);
    expect(m.perClass[2]!.f1).toBeCloseTo(0.8, 12);
  });

  it('WA, UA, macro-F1, weighted F1 and Cohen κ', () => {
    expect(m.wa).toBeCloseTo(0.7, 12);
    expect(m.ua).toBeCloseTo((0.75 + 0.5 + 1) / 3, 12);
    expect(m.macroF1).toBeCloseTo((0.75 + 4 / 7 + 0.8) / 3, 12);
    expect(m.weightedF1).toBeCloseTo((4 * 0.75 + 4 * (4 / 7) + 2 * 0.8) / 10, 12);
    // p_o = .7; marginals human (.4, .4, .2), model (.4, .3, .3): p_e = .16 + .12 + .06 = .34
    expect(m.kappa).toBeCloseTo((0.7 - 0.34) / (1 - 0.34), 12);
  });

  it('a class without support: recall and F1 undefined, left out of UA and macro-F1', () => {
    const r = classificationMetrics([0, 0, 1, 1], [0, 2, 1, 1], 3);
    expect(r.perClass[2]).toEqual({ precision: 0, recall: null, f1: 0, support: 0, predicted: 1 });
    expect(r.confusionNormalised[2]).toBeNull();
    expect(r.ua).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 1) / 2, 12);
    // a class neither labelled nor predicted has no precision and no F1
    expect(classificationMetrics([0, 1], [0, 1], 3).perClass[2]).toMatchObject({ precision: null, f1: null });
  });

  it('no items: nothing defined, never NaN', () => {
    const r = classificationMetrics([], [], 2);
    expect([r.wa, r.ua, r.macroF1, r.weightedF1, r.kappa]).toEqual([null, null, null, null, null]);
  });

  it('one class only: κ undefined, UA is its recall', () => {
    const r = classificationMetrics([1, 1, 1, 1], [1, 1, 0, 1], 2);
    expect(r.ua).toBe(0.75);
    expect(r.kappa).toBeCloseTo(0, 12); // p_e = .75, p_o = .75
    expect(classificationMetrics([1, 1], [1, 1], 2).kappa).toBeNull();
  });
});

describe('calibration on constructed cases', () => {
  it('bins are (b/B, (b+1)/B], 0 in the first and 1 in the last', () => {
    expect(binOf(0, 10)).toBe(0);
    expect(binOf(0.1, 10)).toBe(0);
    expect(binOf(0.1000001, 10)).toBe(1);
    expect(binOf(0.95, 10)).toBe(9);
    expect(binOf(1, 10)).toBe(9);
  });

  it('a perfectly calibrated model has ECE 0', () => {
    // 10 items at .8 confidence with 8 right, 5 at .6 with 3 right
    const conf = [...new Array<number>(10).fill(0.8), ...new Array<number>(5).fill(0.6)];
    const correct = [...[1, 1, 1, 1, 1, 1, 1, 1, 0, 0], ...[1, 1, 1, 0, 0]].map(Boolean);
    const c = calibration(conf, correct);
    expect(c.ece).toBeCloseTo(0, 12);
    expect(c.bins[7]).toMatchObject({ lower: 0.7, upper: 0.8, count: 10, accuracy: 0.8 });
    expect(c.bins[7]!.confidence).toBeCloseTo(0.8, 12);
    expect(c.bins[5]).toMatchObject({ count: 5, accuracy: 0.6 });
    expect(c.bins[5]!.confidence).toBeCloseTo(0.6, 12);
    expect(c.bins[0]).toMatchObject({ count: 0, confidence: null, accuracy: null });
  });

  it('an overconfident model: ECE is the weighted gap, MCE the largest', () => {
    // 4 items at .95 with 2 right (gap .45), 6 items at .55 with 3 right (gap .05)
    const conf = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55];
    const correct = [true, true, false, false, true, true, true, false, false, false];
    const c = calibration(conf, correct);
    expect(c.ece).toBeCloseTo(0.4 * 0.45 + 0.6 * 0.05, 12);
    expect(c.mce).toBeCloseTo(0.45, 12);
    expect(calibration([], []).ece).toBeNull();
  });

  it('threshold for a precision target: the lowest confidence whose accepted set reaches it', () => {
    // sorted by confidence: .99 ✓ .97 ✓ .9 ✓ .9 ✗ .8 ✓ .7 ✗ .6 ✗
    const conf = [0.9, 0.99, 0.7, 0.8, 0.97, 0.6, 0.9];
    const correct = [true, true, false, true, true, false, false];
    // ≥ .97: 2/2; ≥ .9: 3/4 (both .9 items together); ≥ .8: 4/5 = .8; ≥ .7: 4/6; ≥ .6: 4/7
    expect(thresholdForPrecision(conf, correct, 0.95)).toEqual({
      target: 0.95,
      threshold: 0.97,
      count: 2,
      precision: 1,
    });
    expect(thresholdForPrecision(conf, correct, 0.8)).toEqual({
      target: 0.8,
      threshold: 0.8,
      count: 5,
      precision: 0.8,
    });
    expect(thresholdForPrecision(conf, correct, 0.75)).toEqual({
      target: 0.75,
      threshold: 0.8,
      count: 5,
      precision: 0.8,
    });
    expect(thresholdForPrecision([0.9, 0.8], [false, true], 0.9)).toEqual({
      target: 0.9,
      threshold: null,
      count: 0,
      precision: null,
    });
    expect(precisionAbove(conf, correct, 0.9)).toEqual({ count: 4, precision: 0.75 });
    expect(precisionAbove(conf, correct, 1)).toEqual({ count: 0, precision: null });
  });
});

/**
 * The same metrics by an independent implementation: numpy with the textbook formulas, in a child
 * Python process, on random data (several class counts, some classes without support).
 */
const PYTHON = String.raw`
import json, sys
import numpy as np
cases = json.load(sys.stdin)
out = []
for case in cases:
    t = np.array(case["truth"]); p = np.array(case["pred"]); c = np.array(case["conf"]); K = case["k"]
    cm = np.zeros((K, K), dtype=int)
    np.add.at(cm, (t, p), 1)
    tp = np.diag(cm).astype(float); support = cm.sum(1).astype(float); predicted = cm.sum(0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(predicted > 0, tp / predicted, 0.0)
        rec = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    has = support > 0
    n = len(t)
    po = (t == p).mean()
    pe = sum((t == k).mean() * (p == k).mean() for k in range(K))
    right = (t == p)
    bins = np.clip(np.ceil(c * 10).astype(int) - 1, 0, 9)
    ece = sum((bins == b).sum() / n * abs(right[bins == b].mean() - c[bins == b].mean()) for b in range(10) if (bins == b).any())
    thresholds = {}
    for target in (0.9, 0.95):
        best = None
        for th in sorted(set(c.tolist())):
            sel = c >= th
            if right[sel].mean() >= target - 1e-12:
                best = th
                break
        thresholds[str(target)] = best
    out.append({
        "wa": float(po), "ua": float(rec[has].mean()), "macroF1": float(f1[has].mean()),
        "weightedF1": float((f1 * support).sum() / n), "kappa": float((po - pe) / (1 - pe)),
        "precision": prec.tolist(), "recall": rec.tolist(), "f1": f1.tolist(), "confusion": cm.tolist(),
        "ece": float(ece), "thresholds": thresholds,
    })
json.dump(out, sys.stdout)
`;

describe('metrics against an independent numpy implementation on random data', () => {
  it('agree to 1e-9 on 40 random cases', () => {
    const rand = seededRandom(20261127);
    const cases = Array.from({ length: 40 }, (_v, i) => {
      const k = 2 + (i % 5);
      const n = 20 + Math.floor(rand() * 300);
      // Leave the last class without support in every fifth case.
      const truthClasses = i % 5 === 4 ? k - 1 : k;
      const truth = Array.from({ length: n }, () => Math.floor(rand() * truthClasses));
      const skill = rand();
      const pred = truth.map((t) => (rand() < skill ? t : Math.floor(rand() * k)));
      // Confidences on a coarse grid, so that thresholds see ties.
      const conf = pred.map((p, j) => Math.round((0.3 + 0.7 * rand() * (pred[j] === truth[j] ? 1 : 0.8)) * 50) / 50);
      return { k, truth, pred, conf };
    });
    const py = spawnSync('/usr/bin/python3', ['-c', PYTHON], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const expected = JSON.parse(py.stdout) as {
      wa: number;
      ua: number;
      macroF1: number;
      weightedF1: number;
      kappa: number;
      precision: number[];
      recall: number[];
      f1: number[];
      confusion: number[][];
      ece: number;
      thresholds: Record<string, number | null>;
    }[];
    expect(expected).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const e = expected[i]!;
      const m = classificationMetrics(c.truth, c.pred, c.k);
      expect(m.confusion).toEqual(e.confusion);
      for (const key of ['wa', 'ua', 'macroF1', 'weightedF1', 'kappa'] as const) expect(m[key]).toBeCloseTo(e[key], 9);
      m.perClass.forEach((pc, j) => {
        // numpy writes 0 where scikit-learn's zero_division would; ours says null (undefined).
        expect(pc.precision ?? 0).toBeCloseTo(e.precision[j]!, 9);
        expect(pc.recall ?? 0).toBeCloseTo(e.recall[j]!, 9);
        expect(pc.f1 ?? 0).toBeCloseTo(e.f1[j]!, 9);
      });
      const correct = c.truth.map((t, j) => t === c.pred[j]);
      expect(calibration(c.conf, correct).ece).toBeCloseTo(e.ece, 9);
      for (const target of [0.9, 0.95])
        expect(thresholdForPrecision(c.conf, correct, target).threshold).toBe(e.thresholds[String(target)]);
    });
  });
});
