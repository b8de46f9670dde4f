import type { ProjectInfo } from '../../shared/contract';
import { AgreementService } from '../agreement/agreement-service';
import { AnnotationService, LabelService } from '../annotation/annotation-service';
import { SegmentService } from '../annotation/segment-service';
import { DecodedAudioCache } from '../audio/decoded-audio-cache';
import { SpectrogramService } from '../audio/spectrogram-service';
import { WaveformService } from '../audio/waveform-service';
import { LATEST_SCHEMA_VERSION, backupDir } from '../db/open-database';
import { StudioError } from '../errors';
import { StudioEvents, type StudioListener } from '../events';
import { EvaluationService } from '../evaluation/evaluation-service';
import { ExportService } from '../export/export-service';
import { ImportService } from '../import/import-service';
import { PredictionService } from '../inference/prediction-service';
import { SegmentationService } from '../inference/segmentation-service';
import { RelinkService } from '../import/relink-service';
import { TrainingService } from '../training/training-service';
import { JobRunner } from '../jobs/job-runner';
import { MergeService } from '../merge/merge-service';
import { ProjectStore } from '../project/project-store';
import { APP_VERSION } from '../version';

/**
 * The running studio: the open project, its services, the job runner and the domain-event bus the
 * services emit on, which whichever transports are attached subscribe to. Transport-free; the
 * desktop shell and the loopback host wrap it.
 */
export class Studio {
  readonly events = new StudioEvents();
  readonly jobs: JobRunner;
  readonly audio = new DecodedAudioCache();
  readonly annotations: AnnotationService;
  readonly labels: LabelService;
  readonly importer: ImportService;
  readonly exporter: ExportService;
  readonly relinker: RelinkService;
  readonly waveforms: WaveformService;
  /** Spectrogram tiles of a recording's time range. */
  readonly spectrograms: SpectrogramService;
  readonly predictions: PredictionService;
  /** Several annotators: roster, labelling settings, consensus, adjudication, agreement. */
  readonly agreement: AgreementService;
  /** Model report, comparison of versions, bulk accept, provenance. */
  readonly evaluation: EvaluationService;
  /** Segment edits (VAD commit, create, resize, split, merge, delete) and the one Undo over both histories. */
  readonly segments: SegmentService;
  /** Voice activity detection jobs (Silero VAD v5). */
  readonly segmentation: SegmentationService;
  /** Fine-tuning from the studio: the trainer as a child process, the new bundle registered. */
  readonly training: TrainingService;
  /** Merging hand-out copies back (`wavfusion handout`), and undoing a merge. */
  readonly merges: MergeService;
  /** Set once SQLite reports the project file damaged: every later operation fails with it. */
  damaged: StudioError | null = null;

  constructor(readonly store: ProjectStore) {
    this.jobs = new JobRunner(
      (status) => this.events.emit('jobUpdated', status),
      (err) => this.checkDamage(err),
    );
    this.annotations = new AnnotationService(store, this.events);
    this.labels = new LabelService(store, this.events);
    this.importer = new ImportService(store, this.events);
    this.exporter = new ExportService(store, this.audio);
    this.relinker = new RelinkService(store, this.events);
    this.waveforms = new WaveformService(store, this.audio);
    this.spectrograms = new SpectrogramService(store, this.audio);
    this.predictions = new PredictionService(store, this.annotations, this.events);
    this.agreement = new AgreementService(store, this.events);
    this.segments = new SegmentService(store, this.annotations, this.events, this.audio);
    this.segmentation = new SegmentationService(store);
    this.evaluation = new EvaluationService(store, this.annotations, (id) => this.agreement.visibility(id).model);
    this.training = new TrainingService(store, this.exporter, this.predictions);
    this.merges = new MergeService(store, this.events, this.agreement);
  }

  /** Opens a project file as it is (CLI commands, tests); `load` is what the app does. */
  static open(file: string, options?: { create?: boolean; name?: string }): Studio {
    return new Studio(ProjectStore.open(file, options));
  }

  /**
   * Opens a project for the studio app (desktop, host): also does the model-registry upkeep (the
   * demo bundle becomes the active model of a project that has none), so that reads never write.
   */
  static async load(file: string, options?: { create?: boolean; name?: string }): Promise<Studio> {
    const studio = Studio.open(file, options);
    try {
      await studio.predictions.ensureActiveModel();
    } catch (err) {
      // The project still opens; a model can be added or chosen from the studio.
      console.error(`wavfusion: the demo model could not be registered: ${(err as Error).message}`);
    }
    return studio;
  }

  /** Turns SQLite's damage errors into the project's one clear message (and remembers it); other errors pass. */
  checkDamage(err: unknown): unknown {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !(code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) return err;
    this.damaged ??= new StudioError(
      'unsupported',
      `The project file ${this.store.file} is damaged (SQLite: ${(err as Error).message}). To keep it from ` +
        `getting worse, the studio makes no more changes to it. Close the studio, then restore the newest ` +
        `backup from ${backupDir(this.store.file)}, or import the corpus into a new project.`,
    );
    return this.damaged;
  }

  subscribe(listener: StudioListener): () => void {
    return this.events.subscribe(listener);
  }

  info(): ProjectInfo {
    const { store } = this;
    return {
      name: store.name,
      path: store.file,
      schemaVersion: LATEST_SCHEMA_VERSION,
      appVersion: APP_VERSION,
      counts: {
        recordings: store.recordings.count(),
        utterances: store.utterances.count(),
        labelled: store.utterances.labelledCount(store.annotator),
        missingRecordings: store.missingRecordings.size,
      },
      speakers: store.utterances.speakers(),
      annotator: store.annotator,
      model: (() => {
        const m = store.activeModelId === null ? undefined : store.models.byId(store.activeModelId);
        return m ? { id: m.id, name: m.name, version: m.version } : null;
      })(),
      inference: this.predictions.lastDevice,
    };
  }

  /** Renames the project (its name is stored in the project file) and tells every window. */
  rename(name: string): ProjectInfo {
    this.store.transaction(() => this.store.meta.set('name', name.trim()));
    const info = this.info();
    this.events.emit('projectOpened', { info, reason: 'renamed' });
    return info;
  }

  async close(): Promise<void> {
    await this.jobs.shutdown();
    await this.predictions.close();
    await this.segmentation.close();
    this.store.close({ damaged: this.damaged !== null });
  }
}
