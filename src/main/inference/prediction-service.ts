import fs from 'node:fs';
import path from 'node:path';
import type {
  Device,
  ModelInfo,
  Precision,
  Prediction,
  PredictionReport,
  UtteranceFilter,
  UtteranceRow,
} from '../../shared/contract';
import type { AnnotationService } from '../annotation/annotation-service';
import type { ModelRecord } from '../db/models-repository';
import { StudioError, notFound } from '../errors';
import type { StudioEvents } from '../events';
import type { JobContext } from '../jobs/job-runner';
import { RESOURCES_DIR } from '../paths';
import type { ProjectStore } from '../project/project-store';
import { normalisedEntropy, type PredictProgress, type PredictRequest } from './engine';
import { InferenceWorker, type LoadedModel } from './inference-worker-client';
import { readModelBundle } from './model-bundle';

export const BUILTIN_MODELS_DIR = path.join(RESOURCES_DIR, 'models');
export const DEMO_MODEL_LOCATION = 'builtin:wavfusion-demo';

export function resolveModelLocation(location: string): string {
  return location.startsWith('builtin:') ? path.join(BUILTIN_MODELS_DIR, location.slice('builtin:'.length)) : location;
}

/**
 * Pre-labelling: registers model bundles with the project, runs the active one over utterances on
 * a worker thread (skipping those it already predicted: resume), stores label scores, text gate and
 * embedding per model version.
 */
export class PredictionService {
  private worker: InferenceWorker | null = null;
  private loaded: (LoadedModel & { location: string; requested: Device; requestedPrecision: Precision }) | null = null;
  /** Where inference last ran, for the status bar. */
  lastDevice: { device: string; note: string } | null = null;

  constructor(
    private readonly store: ProjectStore,
    private readonly annotations: AnnotationService,
    private readonly events: StudioEvents,
  ) {}

  /**
   * Registry upkeep, done when a project is opened (and before a run): the demo bundle becomes the
   * active model of a project that has none. Reads (listModels) never write.
   */
  async ensureActiveModel(): Promise<ModelRecord | null> {
    const { store } = this;
    const active = store.activeModelId === null ? undefined : store.models.byId(store.activeModelId);
    if (active) return active;
    if (!fs.existsSync(path.join(resolveModelLocation(DEMO_MODEL_LOCATION), 'model.json'))) return null;
    const before = this.listModels();
    const id = await this.register(DEMO_MODEL_LOCATION);
    this.activate(id, before);
    return store.models.byId(id)!;
  }

  /**
   * The one place the active model changes: announced as a models change (when the list or the
   * active one changed) and a predictions change (when another model's predictions are now shown).
   */
  private activate(id: number, before: ModelInfo[] = this.listModels()): ModelInfo[] {
    const switched = this.store.activeModelId !== id;
    this.store.activeModelId = id;
    const models = this.listModels();
    if (JSON.stringify(models) !== JSON.stringify(before)) this.events.emit('modelsChanged', models);
    if (switched) {
      this.events.emit('predictionsChanged', { modelId: id, count: this.store.models.predictedUtterances(id).size });
    }
    return models;
  }

  private async register(location: string): Promise<number> {
    const bundle = await readModelBundle(resolveModelLocation(location));
    const m = bundle.manifest;
    return this.store.models.register(location, m.name, m.version, bundle.checksum, m.labels);
  }

  listModels(): ModelInfo[] {
    const active = this.store.activeModelId;
    return this.store.models.list().map((m) => ({
      id: m.id,
      name: m.displayName ?? m.name,
      bundleName: m.name,
      version: m.version,
      location: m.location,
      labels: m.labels,
      builtin: m.location.startsWith('builtin:'),
      active: m.id === active,
    }));
  }

  /** Adds a bundle folder after loading its graph once (a bundle that does not fit is refused). */
  async addModel(folder: string): Promise<ModelInfo[]> {
    const dir = path.resolve(folder);
    await this.workerFor(dir, 'cpu');
    const before = this.listModels();
    return this.activate(await this.register(dir), before);
  }

  /** Checks a bundle folder as addModel does (model.json, tokenizer, the graph loads) without registering it. */
  async validateBundle(folder: string): Promise<void> {
    await this.workerFor(path.resolve(folder), 'cpu');
  }

  /** Registers a bundle (already checked by validateBundle) without making it the active model. */
  async registerModel(folder: string): Promise<ModelInfo> {
    const id = await this.register(path.resolve(folder));
    const models = this.listModels();
    this.events.emit('modelsChanged', models);
    return models.find((m) => m.id === id)!;
  }

  setActiveModel(id: number): ModelInfo[] {
    if (!this.store.models.byId(id)) throw notFound(`Model ${id}`);
    return this.activate(id);
  }

  /**
   * Removes a model and every prediction of it, in one transaction. If it was the active model, the
   * newest other one becomes active (none if it was the last; the app registers the demo model again
   * when it next opens the project).
   */
  removeModel(id: number): ModelInfo[] {
    const { store } = this;
    if (!store.models.byId(id)) throw notFound(`Model ${id}`);
    const wasActive = store.activeModelId === id;
    store.transaction(() => {
      store.models.remove(id);
      if (wasActive) store.activeModelId = store.models.list().at(-1)?.id ?? null;
    });
    const models = this.listModels();
    this.events.emit('modelsChanged', models);
    if (wasActive) {
      const next = store.activeModelId;
      this.events.emit('predictionsChanged', {
        modelId: next,
        count: next === null ? 0 : store.models.predictedUtterances(next).size,
      });
    }
    return models;
  }

  /** Names a model for the team; null or blank gives it the bundle's name again. */
  renameModel(id: number, name: string | null): ModelInfo[] {
    if (!this.store.models.byId(id)) throw notFound(`Model ${id}`);
    this.store.models.rename(id, name);
    const models = this.listModels();
    this.events.emit('modelsChanged', models);
    return models;
  }

  private async workerFor(dir: string, device: Device, precision: Precision = 'auto'): Promise<LoadedModel> {
    const l = this.loaded;
    if (l && l.location === dir && l.requested === device && l.requestedPrecision === precision) return l;
    this.worker ??= new InferenceWorker();
    try {
      const loaded = await this.worker.load(dir, { device, precision });
      this.loaded = { ...loaded, location: dir, requested: device, requestedPrecision: precision };
    } catch (err) {
      // A failed load can leave the worker unusable; start fresh next time.
      await this.worker.close().catch(() => {});
      this.worker = null;
      this.loaded = null;
      throw new StudioError('unsupported', (err as Error).message);
    }
    this.lastDevice = { device: this.loaded.device, note: this.loaded.note };
    return this.loaded;
  }

  /** Runs the active model as a job; the predictions it stored are announced once, even if it stopped early. */
  async run(
    options: { filter?: UtteranceFilter; device: Device; precision?: Precision; recompute: boolean },
    ctx: JobContext,
  ): Promise<PredictionReport> {
    const model = await this.ensureActiveModel();
    if (!model) throw new StudioError('not_found', 'No model: add a model bundle first');
    let stored = 0;
    try {
      return await this.runModel(model, options, ctx, () => stored++);
    } finally {
      if (stored > 0) this.events.emit('predictionsChanged', { modelId: model.id, count: stored });
    }
  }

  private async runModel(
    model: ModelRecord,
    options: { filter?: UtteranceFilter; device: Device; precision?: Precision; recompute: boolean },
    ctx: JobContext,
    onStored: () => void,
  ): Promise<PredictionReport> {
    const { store } = this;
    const loaded = await this.workerFor(resolveModelLocation(model.location), options.device, options.precision);
    const done = options.recompute ? new Set<number>() : store.models.predictedUtterances(model.id);
    const rows = store.rows(options.filter ?? {});
    const recordings = new Map(store.recordings.list().map((r) => [r.id, r]));
    const todo = rows.filter((r) => !done.has(r.id));
    const report: PredictionReport = {
      model: `${model.name} ${model.version}`,
      device: loaded.device,
      deviceNote: loaded.note,
      precision: loaded.precision,
      predicted: 0,
      skipped: rows.length - todo.length,
      failures: [],
      audioSeconds: 0,
      realtimeFactor: 0,
      cancelled: false,
    };
    const request = (r: (typeof rows)[number]): PredictRequest => ({
      key: String(r.id),
      path: recordings.get(r.recordingId)!.path,
      start: r.start,
      end: r.end,
      text: r.transcript,
      speaker: r.speaker,
    });
    const requests: PredictRequest[] = todo
      .map(request)
      .sort((a, b) => a.path.localeCompare(b.path) || a.start! - b.start!);
    // a speaker-normalised model reads each speaker's statistics from all of their utterances in the project
    const statisticsPool = loaded.manifest.speaker_normalisation ? this.sameSpeakers(todo).map(request) : undefined;
    const started = Date.now();
    let processed = 0;
    ctx.progress(0, requests.length, `Running ${model.name} on ${loaded.device}`, {
      device: loaded.device,
      audioSeconds: 0,
      realtimeFactor: 0,
    });
    const onProgress = (p: PredictProgress) =>
      ctx.progress(p.done, p.total, `Measuring each speaker's voice: ${p.done} of ${p.total} utterances`, {
        device: loaded.device,
        audioSeconds: 0,
        realtimeFactor: 0,
      });
    for await (const results of this.worker!.predict(requests, ctx.signal, { statisticsPool, onProgress })) {
      const createdAt = new Date().toISOString();
      store.transaction(() => {
        for (const r of results) {
          const utteranceId = Number(r.key);
          if (!r.ok) {
            report.failures.push({
              path: `${requests.find((q) => q.key === r.key)!.path} (utterance ${utteranceId})`,
              reason: r.error,
            });
            continue;
          }
          const best = r.probabilities.indexOf(Math.max(...r.probabilities));
          store.models.putPrediction({
            utteranceId,
            modelId: model.id,
            probabilities: r.probabilities,
            predictedLabel: model.labels[best]!,
            confidence: r.probabilities[best]!,
            entropy: normalisedEntropy(r.probabilities),
            textGate: r.textGate,
            textUsed: r.textUsed,
            windows: r.windows,
            embedding: r.embedding,
            createdAt,
            precision: loaded.precision,
          });
          report.predicted++;
          onStored();
          report.audioSeconds += r.durationS;
        }
      });
      processed += results.length;
      const elapsed = (Date.now() - started) / 1000;
      report.realtimeFactor = elapsed > 0 ? report.audioSeconds / elapsed : 0;
      ctx.progress(processed, requests.length, `${report.predicted} predicted`, {
        device: loaded.device,
        audioSeconds: Math.round(report.audioSeconds * 10) / 10,
        realtimeFactor: Math.round(report.realtimeFactor * 10) / 10,
      });
    }
    report.cancelled = ctx.signal.aborted;
    return report;
  }

  /** The project's utterances, not among `rows`, whose speaker is one of theirs (one list query per speaker). */
  private sameSpeakers(rows: readonly UtteranceRow[]): UtteranceRow[] {
    const speakers = new Set(rows.flatMap((r) => (r.speaker ? [r.speaker] : [])));
    const ids = new Set(rows.map((r) => r.id));
    return [...speakers].flatMap((speaker) => this.store.rows({ speaker }).filter((r) => !ids.has(r.id)));
  }

  prediction(utteranceId: number): Prediction | null {
    const { store } = this;
    const modelId = store.activeModelId;
    if (modelId === null) return null;
    const model = store.models.byId(modelId);
    const p = model && store.models.prediction(utteranceId, modelId);
    if (!model || !p) return null;
    const labelIds = model.labels.map((name) => store.labels.byName(name)?.id ?? null);
    const best = model.labels.indexOf(p.predictedLabel);
    return {
      utteranceId,
      model: { id: model.id, name: model.name, version: model.version },
      scores: model.labels.map((label, i) => ({ label, labelId: labelIds[i]!, probability: p.probabilities[i]! })),
      predicted: {
        label: p.predictedLabel,
        labelId: labelIds[best] ?? null,
        confidence: p.confidence,
        entropy: p.entropy,
      },
      textGate: p.textGate,
      textUsed: p.textUsed,
      windows: p.windows,
      createdAt: p.createdAt,
      precision: p.precision ?? 'fp32',
    };
  }

  /** Enter: the model's label becomes the person's label (one undoable edit). */
  accept(utteranceId: number) {
    const p = this.prediction(utteranceId);
    if (!p) throw new StudioError('not_found', `Utterance ${utteranceId} has no prediction from the active model`);
    if (p.predicted.labelId === null) {
      throw new StudioError(
        'conflict',
        `The model's label "${p.predicted.label}" is not in this project's label set; add it first`,
      );
    }
    return this.annotations.setLabel(utteranceId, p.predicted.labelId);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
    this.loaded = null;
  }
}
