import fs from 'node:fs';
import path from 'node:path';
import {
  MAX_COMPARED_ITEMS,
  MIN_REPORT_ITEMS,
  UtteranceFilter,
  type BreakdownGroup,
  type BulkAcceptPreview,
  type ComparedItem,
  type ModelComparison,
  type ModelProvenance,
  type ModelRef,
  type ModelReport,
  type ReportClass,
  type SummaryMetrics,
} from '../../shared/contract';
import { projectConsensus } from '../agreement/consensus';
import type { AnnotationService } from '../annotation/annotation-service';
import type { ModelRecord } from '../db/models-repository';
import { StudioError, notFound } from '../errors';
import { resolveModelLocation } from '../inference/prediction-service';
import type { ProjectStore } from '../project/project-store';
import {
  calibration,
  classificationMetrics,
  precisionAbove,
  thresholdForPrecision,
  type ClassificationMetrics,
} from './metrics';

/** Precision targets the report gives a confidence threshold for. */
export const PRECISION_TARGETS = [0.9, 0.95] as const;

/** One utterance in scope with its human (consensus) label and what the model said. */
interface Item {
  utteranceId: number;
  recordingName: string;
  folder: string;
  speaker: string | null;
  hasTranscript: boolean;
  /** Class indices into the report's classes. */
  truth: number;
  pred: number;
  confidence: number;
}

type Scope = { filter?: Partial<UtteranceFilter> };

/**
 * How good a model is on the project's own labels: the model report (from stored predictions of one
 * model version against the human labels, consensus where there are several), two versions side by
 * side, and bulk accept of confident predictions (one undoable step). Reads never write.
 */
export class EvaluationService {
  constructor(
    private readonly store: ProjectStore,
    private readonly annotations: AnnotationService,
    /** Whether the current annotator may see the model's prediction of an utterance (blind mode). */
    private readonly modelVisible: (utteranceId: number) => boolean = () => true,
  ) {}

  private model(id?: number): ModelRecord {
    const modelId = id ?? this.store.activeModelId;
    if (modelId === null || modelId === undefined)
      throw new StudioError('not_found', 'No model: add a model bundle first');
    const m = this.store.models.byId(modelId);
    if (!m) throw notFound(`Model ${modelId}`);
    return m;
  }

  private ref(m: ModelRecord): ModelRef {
    return { id: m.id, name: m.displayName ?? m.name, version: m.version };
  }

  /** The report's classes: the project's labels in order, then the models' labels the project lacks. */
  private classes(models: ModelRecord[]): ReportClass[] {
    const classes: ReportClass[] = this.store.labels.list().map((l) => ({ label: l.name, labelId: l.id }));
    const folded = new Set(classes.map((c) => c.label.toLowerCase()));
    for (const m of models)
      for (const name of m.labels)
        if (!folded.has(name.toLowerCase())) {
          folded.add(name.toLowerCase());
          classes.push({ label: name, labelId: null });
        }
    return classes;
  }

  /** Utterances in scope with a human label: id → [class index, row facts]. */
  private labelledInScope(scope: Scope, classes: ReportClass[]) {
    const { store } = this;
    const rows = store.rows(scope.filter ?? {});
    const consensus = projectConsensus(store.db).items;
    const classOfLabel = new Map(classes.filter((c) => c.labelId !== null).map((c, i) => [c.labelId!, i]));
    const recordings = new Map(store.recordings.list().map((r) => [r.id, r.path]));
    const out = new Map<number, Omit<Item, 'pred' | 'confidence'>>();
    for (const row of rows) {
      const labelId = consensus.get(row.id)?.labelId ?? null;
      if (labelId === null) continue;
      out.set(row.id, {
        utteranceId: row.id,
        recordingName: row.recordingName,
        folder: corpusFolder(recordings.get(row.recordingId) ?? row.recordingName, row.speaker),
        speaker: row.speaker,
        hasTranscript: row.transcript.trim() !== '',
        truth: classOfLabel.get(labelId)!,
      });
    }
    return out;
  }

  private predictionsOf(m: ModelRecord, classes: ReportClass[]) {
    const classOfName = new Map(classes.map((c, i) => [c.label.toLowerCase(), i]));
    return new Map(
      this.store.models
        .predictionsOf(m.id)
        .map((p) => [
          p.utteranceId,
          { pred: classOfName.get(p.predictedLabel.toLowerCase())!, confidence: p.confidence },
        ]),
    );
  }

  report(request: Scope & { modelId?: number } = {}): ModelReport {
    const m = this.model(request.modelId);
    const classes = this.classes([m]);
    const labelled = this.labelledInScope(request, classes);
    const predictions = this.predictionsOf(m, classes);
    const items: Item[] = [];
    for (const [id, l] of labelled) {
      const p = predictions.get(id);
      if (p) items.push({ ...l, ...p });
    }
    const warnings: string[] = [];
    const unpredicted = labelled.size - items.length;
    if (unpredicted > 0)
      warnings.push(
        `${unpredicted} labelled utterance(s) have no prediction from this model: run it on them to include them.`,
      );
    const metrics = classificationMetrics(
      items.map((i) => i.truth),
      items.map((i) => i.pred),
      classes.length,
    );
    const known = new Set(m.labels.map((l) => l.toLowerCase()));
    classes.forEach((c, i) => {
      const support = metrics.perClass[i]!.support;
      if (c.labelId === null && metrics.perClass[i]!.predicted > 0)
        warnings.push(
          `The model predicts "${c.label}", which is not in the project's label set: those predictions count as wrong.`,
        );
      if (c.labelId !== null && !known.has(c.label.toLowerCase()) && support > 0)
        warnings.push(`The model does not know the label "${c.label}": its ${support} utterance(s) can only be wrong.`);
      if (c.labelId !== null && known.has(c.label.toLowerCase()) && support === 0 && items.length > 0)
        warnings.push(
          `No labelled utterance is "${c.label}": its recall and F1 are undefined, and it is left out of UA and macro-F1.`,
        );
    });
    const truthClasses = new Set(items.map((i) => i.truth));
    if (truthClasses.size === 1)
      warnings.push("The human labels in scope have one class only: κ is undefined and UA is that class's recall.");

    const status = items.length === 0 ? 'no_labels' : items.length < MIN_REPORT_ITEMS ? 'too_few' : 'ok';
    const message =
      status === 'no_labels'
        ? labelled.size === 0
          ? 'No human labels to compare with: label some utterances (or widen the filter) first.'
          : `None of the ${labelled.size} labelled utterance(s) has a prediction from this model: run the model first.`
        : status === 'too_few'
          ? `Only ${items.length} labelled utterance(s) have a prediction from this model: at least ${MIN_REPORT_ITEMS} are needed for meaningful numbers.`
          : null;
    const ok = status === 'ok';
    const correct = items.map((i) => i.truth === i.pred);
    const confidence = items.map((i) => i.confidence);
    const cal = calibration(confidence, correct);
    return {
      model: this.ref(m),
      status,
      message,
      labelled: labelled.size,
      items: items.length,
      warnings,
      classes,
      metrics: ok ? summary(metrics) : null,
      perClass: classes.map((c, i) => {
        const pc = metrics.perClass[i]!;
        const defined = ok && pc.support > 0;
        return {
          ...c,
          precision: ok ? pc.precision : null,
          recall: defined ? pc.recall : null,
          f1: defined ? pc.f1 : null,
          support: pc.support,
          predicted: pc.predicted,
        };
      }),
      confusion: { counts: metrics.confusion, normalised: metrics.confusionNormalised },
      calibration: ok
        ? {
            bins: cal.bins,
            ece: cal.ece,
            mce: cal.mce,
            thresholds: PRECISION_TARGETS.map((t) => thresholdForPrecision(confidence, correct, t)),
          }
        : null,
      breakdowns: {
        transcript: breakdown(items, classes.length, (i) =>
          i.hasTranscript ? 'with transcript' : 'without transcript',
        ),
        speaker: breakdown(items, classes.length, (i) => i.speaker ?? '(no speaker)'),
        folder: breakdown(items, classes.length, (i) => i.folder),
      },
    };
  }

  /** Two model versions on the same utterances (those with a human label and a prediction from both). */
  compare(request: Scope & { a: number; b: number }): ModelComparison {
    const ma = this.model(request.a);
    const mb = this.model(request.b);
    const classes = this.classes([ma, mb]);
    const labelled = this.labelledInScope(request, classes);
    const pa = this.predictionsOf(ma, classes);
    const pb = this.predictionsOf(mb, classes);
    const common: { item: Omit<Item, 'pred' | 'confidence'>; a: number; b: number }[] = [];
    for (const [id, l] of labelled) {
      const a = pa.get(id);
      const b = pb.get(id);
      if (a && b) common.push({ item: l, a: a.pred, b: b.pred });
    }
    const truth = common.map((c) => c.item.truth);
    const metricsA = classificationMetrics(
      truth,
      common.map((c) => c.a),
      classes.length,
    );
    const metricsB = classificationMetrics(
      truth,
      common.map((c) => c.b),
      classes.length,
    );
    const status = common.length === 0 ? 'no_labels' : common.length < MIN_REPORT_ITEMS ? 'too_few' : 'ok';
    const ok = status === 'ok';
    const name = (i: number) => classes[i]!.label;
    const toItem = (c: (typeof common)[number]): ComparedItem => ({
      utteranceId: c.item.utteranceId,
      recordingName: c.item.recordingName,
      human: name(c.item.truth),
      a: name(c.a),
      b: name(c.b),
    });
    const aOnly = common.filter((c) => c.a === c.item.truth && c.b !== c.item.truth);
    const bOnly = common.filter((c) => c.b === c.item.truth && c.a !== c.item.truth);
    const sa = summary(metricsA);
    const sb = summary(metricsB);
    const delta = (k: keyof Omit<SummaryMetrics, 'n'>) => (sa[k] === null || sb[k] === null ? null : sb[k] - sa[k]);
    return {
      a: this.ref(ma),
      b: this.ref(mb),
      status,
      message:
        status === 'no_labels'
          ? 'No labelled utterance has a prediction from both models: run both on the labelled utterances.'
          : status === 'too_few'
            ? `Only ${common.length} labelled utterance(s) have predictions from both models: at least ${MIN_REPORT_ITEMS} are needed.`
            : null,
      items: common.length,
      metricsA: ok ? sa : null,
      metricsB: ok ? sb : null,
      deltas: ok
        ? {
            wa: delta('wa'),
            ua: delta('ua'),
            macroF1: delta('macroF1'),
            weightedF1: delta('weightedF1'),
            kappa: delta('kappa'),
          }
        : null,
      aRightBWrong: { count: aOnly.length, items: aOnly.slice(0, MAX_COMPARED_ITEMS).map(toItem) },
      bRightAWrong: { count: bOnly.length, items: bOnly.slice(0, MAX_COMPARED_ITEMS).map(toItem) },
    };
  }

  /** The active model's predictions a bulk accept would take: in the filter, confidence ≥ threshold. */
  private bulkCandidates(request: Scope & { threshold: number }) {
    const { store } = this;
    const m = this.model();
    const rows = store.rows(request.filter ?? {});
    const stored = new Map(store.models.predictionsOf(m.id).map((p) => [p.utteranceId, p]));
    const accept: { utteranceId: number; labelId: number; confidence: number }[] = [];
    let alreadyLabelled = 0;
    let unknownLabel = 0;
    let hidden = 0;
    for (const row of rows) {
      const p = stored.get(row.id);
      if (!p || p.confidence < request.threshold) continue;
      if (row.labelId !== null) {
        alreadyLabelled++;
        continue;
      }
      if (!this.modelVisible(row.id)) {
        hidden++;
        continue;
      }
      const label = store.labels.byName(p.predictedLabel);
      if (!label) {
        unknownLabel++;
        continue;
      }
      accept.push({ utteranceId: row.id, labelId: label.id, confidence: p.confidence });
    }
    return { model: m, accept, alreadyLabelled, unknownLabel, hidden };
  }

  previewBulkAccept(request: Scope & { threshold: number }): BulkAcceptPreview {
    const c = this.bulkCandidates(request);
    if (c.hidden > 0 && c.accept.length === 0)
      throw new StudioError('forbidden', 'Blind mode hides the predictions of utterances you have not labelled yet');
    // Expected precision: this model on every human label of the project at or above the threshold.
    const classes = this.classes([c.model]);
    const labelled = this.labelledInScope({}, classes);
    const predictions = this.predictionsOf(c.model, classes);
    const confidence: number[] = [];
    const correct: boolean[] = [];
    for (const [id, l] of labelled) {
      const p = predictions.get(id);
      if (!p) continue;
      confidence.push(p.confidence);
      correct.push(p.pred === l.truth);
    }
    const above = precisionAbove(confidence, correct, request.threshold);
    const note =
      above.count === 0
        ? 'No labelled utterance has a prediction at or above this threshold: the precision to expect is unknown.'
        : above.count < MIN_REPORT_ITEMS
          ? `Based on only ${above.count} labelled utterance(s) at or above this threshold.`
          : null;
    return {
      model: this.ref(c.model),
      threshold: request.threshold,
      count: c.accept.length,
      alreadyLabelled: c.alreadyLabelled,
      unknownLabel: c.unknownLabel,
      meanConfidence: c.accept.length ? c.accept.reduce((s, a) => s + a.confidence, 0) / c.accept.length : null,
      expectedPrecision: { precision: above.precision, labelled: above.count, note },
    };
  }

  /**
   * Accepts the previewed predictions as the current annotator's labels in one undoable step. Refused
   * when the count differs from `expectedCount` (the list or the predictions changed since the preview).
   */
  bulkAccept(request: Scope & { threshold: number; expectedCount: number }): { accepted: number } {
    const c = this.bulkCandidates(request);
    if (c.accept.length !== request.expectedCount)
      throw new StudioError(
        'conflict',
        `The preview counted ${request.expectedCount} prediction(s) to accept, now there are ${c.accept.length}: preview again`,
      );
    return { accepted: this.annotations.setLabels(c.accept) };
  }

  /** Where a model came from: its model.json (training data, recipe, metrics) as the trainer wrote it. */
  provenance(id: number): ModelProvenance {
    const m = this.model(id);
    let manifest: Record<string, unknown> | null;
    try {
      manifest = JSON.parse(
        fs.readFileSync(path.join(resolveModelLocation(m.location), 'model.json'), 'utf8'),
      ) as Record<string, unknown>;
    } catch {
      manifest = null;
    }
    const record = (v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      id: m.id,
      name: m.displayName ?? m.name,
      bundleName: m.name,
      version: m.version,
      location: m.location,
      checksum: m.checksum,
      addedAt: m.addedAt,
      available: manifest !== null,
      created: str(manifest?.created),
      disclaimer: str(manifest?.disclaimer),
      training: record(manifest?.training),
      config: str(record(manifest?.config)?.name),
      exportedWith: record(manifest?.exported_with),
      predictions: this.store.models.predictedUtterances(m.id).size,
    };
  }
}

/**
 * The corpus a recording was imported with: its folder, or the folder above where that is named after
 * the speaker (an import takes a sub-folder's name as the speaker).
 */
function corpusFolder(file: string, speaker: string | null): string {
  const folder = path.dirname(file);
  return speaker !== null && path.basename(folder) === speaker ? path.dirname(folder) : folder;
}

function summary(m: ClassificationMetrics): SummaryMetrics {
  return { n: m.n, wa: m.wa, ua: m.ua, macroF1: m.macroF1, weightedF1: m.weightedF1, kappa: m.kappa };
}

function breakdown(items: Item[], classes: number, key: (i: Item) => string): BreakdownGroup[] {
  const groups = new Map<string, Item[]>();
  for (const i of items) {
    const k = key(i);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, g]) => ({
      key: k,
      n: g.length,
      metrics:
        g.length < MIN_REPORT_ITEMS
          ? null
          : summary(
              classificationMetrics(
                g.map((i) => i.truth),
                g.map((i) => i.pred),
                classes,
              ),
            ),
      note: g.length < MIN_REPORT_ITEMS ? `${g.length} item(s): fewer than ${MIN_REPORT_ITEMS}, no metrics` : null,
    }));
}
