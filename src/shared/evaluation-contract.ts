/**
 * The model report, model comparison, bulk accept and model provenance schemas of the contract
 * (issue 13). Re-exported by contract.ts, which holds the operations.
 */
import { z } from 'zod';

const Num = z.number().nullable();
const ModelId = z.number().int().positive();

/** Below this many labelled items with a prediction, a report (or a breakdown group) gives no metrics. */
export const MIN_REPORT_ITEMS = 20;

export const ModelRef = z.object({ id: ModelId, name: z.string(), version: z.string() });
export type ModelRef = z.infer<typeof ModelRef>;

export const ReportClass = z.object({
  label: z.string(),
  /** The project's label of that name; null for a label only the model has. */
  labelId: z.number().int().positive().nullable(),
});
export type ReportClass = z.infer<typeof ReportClass>;

export const SummaryMetrics = z.object({
  n: z.number().int(),
  wa: Num,
  ua: Num,
  macroF1: Num,
  weightedF1: Num,
  kappa: Num,
});
export type SummaryMetrics = z.infer<typeof SummaryMetrics>;

export const ClassReport = ReportClass.extend({
  precision: Num,
  recall: Num,
  f1: Num,
  support: z.number().int(),
  predicted: z.number().int(),
});
export type ClassReport = z.infer<typeof ClassReport>;

export const ReliabilityBin = z.object({
  lower: z.number(),
  upper: z.number(),
  count: z.number().int(),
  confidence: Num,
  accuracy: Num,
});
export type ReliabilityBin = z.infer<typeof ReliabilityBin>;

export const ThresholdPoint = z.object({
  target: z.number(),
  threshold: Num,
  count: z.number().int(),
  precision: Num,
});
export type ThresholdPoint = z.infer<typeof ThresholdPoint>;

export const BreakdownGroup = z.object({
  key: z.string(),
  n: z.number().int(),
  /** Null where the group has fewer than MIN_REPORT_ITEMS items (see `note`). */
  metrics: SummaryMetrics.nullable(),
  note: z.string().nullable(),
});
export type BreakdownGroup = z.infer<typeof BreakdownGroup>;

export const ModelReport = z.object({
  model: ModelRef,
  /** `no_labels`: nothing to compare with; `too_few`: fewer than MIN_REPORT_ITEMS items, no metrics. */
  status: z.enum(['ok', 'too_few', 'no_labels']),
  /** Why there are no numbers (status other than ok). */
  message: z.string().nullable(),
  /** Utterances in scope with a human (consensus) label, and how many of them the model predicted. */
  labelled: z.number().int(),
  items: z.number().int(),
  warnings: z.array(z.string()),
  /** Rows and columns of the confusion matrix: the project's labels, then labels only the model has. */
  classes: z.array(ReportClass),
  metrics: SummaryMetrics.nullable(),
  perClass: z.array(ClassReport),
  /** confusion.counts[human][model]; `normalised` divides each row by its support (null: no support). */
  confusion: z.object({
    counts: z.array(z.array(z.number().int())),
    normalised: z.array(z.array(z.number()).nullable()),
  }),
  calibration: z
    .object({
      bins: z.array(ReliabilityBin),
      ece: Num,
      mce: Num,
      /** The lowest confidence at which accepted predictions reach 90 % and 95 % precision. */
      thresholds: z.array(ThresholdPoint),
    })
    .nullable(),
  breakdowns: z.object({
    transcript: z.array(BreakdownGroup),
    speaker: z.array(BreakdownGroup),
    /** Per corpus: the recording's folder, or the one above it where that is the speaker's folder. */
    folder: z.array(BreakdownGroup),
  }),
});
export type ModelReport = z.infer<typeof ModelReport>;

export const ComparedItem = z.object({
  utteranceId: z.number().int().positive(),
  recordingName: z.string(),
  human: z.string(),
  a: z.string(),
  b: z.string(),
});
export type ComparedItem = z.infer<typeof ComparedItem>;

/** At most this many items of each "one right, the other wrong" list are returned (counts are whole). */
export const MAX_COMPARED_ITEMS = 200;

export const ModelComparison = z.object({
  a: ModelRef,
  b: ModelRef,
  status: z.enum(['ok', 'too_few', 'no_labels']),
  message: z.string().nullable(),
  /** Utterances with a human label and a prediction from both models. */
  items: z.number().int(),
  metricsA: SummaryMetrics.nullable(),
  metricsB: SummaryMetrics.nullable(),
  /** b − a per metric (null where either is undefined). */
  deltas: z.object({ wa: Num, ua: Num, macroF1: Num, weightedF1: Num, kappa: Num }).nullable(),
  aRightBWrong: z.object({ count: z.number().int(), items: z.array(ComparedItem) }),
  bRightAWrong: z.object({ count: z.number().int(), items: z.array(ComparedItem) }),
});
export type ModelComparison = z.infer<typeof ModelComparison>;

export const BulkAcceptPreview = z.object({
  model: ModelRef,
  threshold: z.number(),
  /** Predictions that would become your labels: in the filter, confidence ≥ threshold, not yet labelled by you. */
  count: z.number().int(),
  /** Skipped: already labelled by you; the model's label is not in the project's label set. */
  alreadyLabelled: z.number().int(),
  unknownLabel: z.number().int(),
  /** Mean confidence of the predictions to accept (the model's own estimate of their precision). */
  meanConfidence: Num,
  /**
   * Precision of this model at or above the threshold on the project's human labels (all of them, not
   * just the filter): `labelled` items it rests on; null precision where there are none.
   */
  expectedPrecision: z.object({ precision: Num, labelled: z.number().int(), note: z.string().nullable() }),
});
export type BulkAcceptPreview = z.infer<typeof BulkAcceptPreview>;

export const ModelProvenance = z.object({
  id: ModelId,
  name: z.string(),
  bundleName: z.string(),
  version: z.string(),
  location: z.string(),
  checksum: z.string(),
  addedAt: z.string(),
  /** Whether model.json could be read at the location now. */
  available: z.boolean(),
  created: z.string().nullable(),
  disclaimer: z.string().nullable(),
  /** model.json's `training` block as written by the trainer (data, recipe, metrics), if any. */
  training: z.record(z.string(), z.unknown()).nullable(),
  /** The recipe: model.json's `config.name` and `exported_with`, if any. */
  config: z.string().nullable(),
  exportedWith: z.record(z.string(), z.unknown()).nullable(),
  predictions: z.number().int(),
});
export type ModelProvenance = z.infer<typeof ModelProvenance>;
