/**
 * Classification metrics of a model against reference (human) labels, as pure functions over plain
 * arrays. Classes are indices 0..K-1; `truth[i]` and `pred[i]` are class indices, `confidence[i]` the
 * probability the model gave its predicted class. Undefined quantities are null, never NaN.
 *
 * Definitions (the same as scikit-learn's where both define them):
 * - WA (weighted accuracy) = accuracy = Σ_c TP_c / N.
 * - UA (unweighted accuracy) = mean recall over the classes with support (balanced accuracy).
 * - precision_c = TP_c / (TP_c + FP_c), null when the class was never predicted; recall_c = TP_c / support_c,
 *   null without support; F1_c = 2PR/(P+R), 0 when TP_c = 0 and the class has support or predictions.
 * - macro-F1 = mean F1 over the classes with support; weighted F1 = Σ support_c F1_c / N.
 * - Cohen's κ model vs human: the agreement module's `kappaOfPairs` (one implementation in the core).
 * - ECE = Σ_b (n_b / N) |accuracy_b − mean confidence_b| over equal-width confidence bins
 *   (bin b holds confidences in (b/B, (b+1)/B], confidence 0 in bin 0).
 */
import { kappaOfPairs } from '../agreement/stats';

export interface ClassMetrics {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
  /** How often the model predicted the class. */
  predicted: number;
}

export interface ClassificationMetrics {
  n: number;
  wa: number | null;
  ua: number | null;
  macroF1: number | null;
  weightedF1: number | null;
  kappa: number | null;
  perClass: ClassMetrics[];
  /** confusion[t][p]: items of true class t predicted as p. */
  confusion: number[][];
  /** Each row divided by its support (null for a row without support). */
  confusionNormalised: (number[] | null)[];
}

export function classificationMetrics(
  truth: readonly number[],
  pred: readonly number[],
  classes: number,
): ClassificationMetrics {
  const n = truth.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < n; i++) confusion[truth[i]!]![pred[i]!]!++;
  const perClass: ClassMetrics[] = [];
  let correct = 0;
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c]![c]!;
    correct += tp;
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    let predicted = 0;
    for (let t = 0; t < classes; t++) predicted += confusion[t]![c]!;
    const precision = predicted ? tp / predicted : null;
    const recall = support ? tp / support : null;
    let f1: number | null = null;
    if (tp > 0) f1 = (2 * precision! * recall!) / (precision! + recall!);
    else if (support > 0 || predicted > 0) f1 = 0;
    perClass.push({ precision, recall, f1, support, predicted });
  }
  const supported = perClass.filter((c) => c.support > 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null);
  return {
    n,
    wa: n ? correct / n : null,
    ua: mean(supported.map((c) => c.recall!)),
    macroF1: mean(supported.map((c) => c.f1!)),
    weightedF1: n ? supported.reduce((s, c) => s + c.support * c.f1!, 0) / n : null,
    kappa: kappaOfPairs(truth.map((t, i) => [t, pred[i]!] as const)),
    perClass,
    confusion,
    confusionNormalised: confusion.map((row, c) => {
      const support = perClass[c]!.support;
      return support ? row.map((v) => v / support) : null;
    }),
  };
}

export interface ReliabilityBin {
  /** Confidences in (lower, upper] (bin 0 also holds 0). */
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence and share correct of the bin's items; null when empty. */
  confidence: number | null;
  accuracy: number | null;
}

export interface Calibration {
  bins: ReliabilityBin[];
  /** Expected calibration error; null without items. */
  ece: number | null;
  /** Maximum calibration error over non-empty bins. */
  mce: number | null;
}

export function calibration(confidence: readonly number[], correct: readonly boolean[], binCount = 10): Calibration {
  const n = confidence.length;
  const sums = Array.from({ length: binCount }, () => ({ count: 0, conf: 0, right: 0 }));
  for (let i = 0; i < n; i++) {
    const b = binOf(confidence[i]!, binCount);
    sums[b]!.count++;
    sums[b]!.conf += confidence[i]!;
    if (correct[i]) sums[b]!.right++;
  }
  let ece = 0;
  let mce = 0;
  const bins = sums.map((s, b) => {
    const conf = s.count ? s.conf / s.count : null;
    const acc = s.count ? s.right / s.count : null;
    if (s.count) {
      const gap = Math.abs(acc! - conf!);
      ece += (s.count / n) * gap;
      mce = Math.max(mce, gap);
    }
    return { lower: b / binCount, upper: (b + 1) / binCount, count: s.count, confidence: conf, accuracy: acc };
  });
  return { bins, ece: n ? ece : null, mce: n ? mce : null };
}

/** The bin of a confidence: (b/B, (b+1)/B], with 0 in bin 0 and anything above 1 in the last. */
export function binOf(confidence: number, binCount: number): number {
  return Math.min(binCount - 1, Math.max(0, Math.ceil(confidence * binCount) - 1));
}

export interface ThresholdPoint {
  /** The precision asked for. */
  target: number;
  /** The lowest confidence t such that the predictions with confidence ≥ t reach the target; null if none does. */
  threshold: number | null;
  /** Predictions at or above the threshold, and their precision. */
  count: number;
  precision: number | null;
}

/**
 * The lowest confidence threshold at which the predictions at or above it are at least `target`
 * precise (the one that accepts the most), scanning every distinct confidence.
 */
export function thresholdForPrecision(
  confidence: readonly number[],
  correct: readonly boolean[],
  target: number,
): ThresholdPoint {
  const order = confidence.map((c, i) => i).sort((a, b) => confidence[b]! - confidence[a]!);
  let right = 0;
  let best: ThresholdPoint = { target, threshold: null, count: 0, precision: null };
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (correct[i]) right++;
    // Only where the next confidence is lower: a threshold takes every item of equal confidence.
    const next = order[k + 1];
    if (next !== undefined && confidence[next] === confidence[i]) continue;
    const precision = right / (k + 1);
    if (precision >= target - 1e-12) best = { target, threshold: confidence[i]!, count: k + 1, precision };
  }
  return best;
}

/** Precision of the predictions with confidence ≥ threshold (null when there are none). */
export function precisionAbove(
  confidence: readonly number[],
  correct: readonly boolean[],
  threshold: number,
): { count: number; precision: number | null } {
  let count = 0;
  let right = 0;
  confidence.forEach((c, i) => {
    if (c >= threshold) {
      count++;
      if (correct[i]) right++;
    }
  });
  return { count, precision: count ? right / count : null };
}
