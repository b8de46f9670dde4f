import type { EventName, EventPayload, ProjectInfo } from '../../shared/contract';
import { AnnotationService, LabelService } from '../annotation/annotation-service';
import { DecodedAudioCache } from '../audio/decoded-audio-cache';
import { WaveformService } from '../audio/waveform-service';
import { LATEST_SCHEMA_VERSION, backupDir } from '../db/open-database';
import { StudioError } from '../errors';
import { ExportService } from '../export/export-service';
import { ImportService } from '../import/import-service';
import { PredictionService } from '../inference/prediction-service';
import { RelinkService } from '../import/relink-service';
import { JobRunner } from '../jobs/job-runner';
import { ProjectStore } from '../project/project-store';
import { APP_VERSION } from '../version';

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/**
 * The running studio: the open project, its services, the job runner and the event fan-out to
 * whichever transports are attached. Transport-free; the desktop shell and the loopback host wrap it.
 */
export class Studio {
  readonly jobs: JobRunner;
  readonly audio = new DecodedAudioCache();
  readonly annotations: AnnotationService;
  readonly labels: LabelService;
  readonly importer: ImportService;
  readonly exporter: ExportService;
  readonly relinker: RelinkService;
  readonly waveforms: WaveformService;
  readonly predictions: PredictionService;
  private readonly listeners = new Set<Listener>();
  /** Set once SQLite reports the project file damaged: every later operation fails with it. */
  damaged: StudioError | null = null;

  constructor(readonly store: ProjectStore) {
    this.jobs = new JobRunner(
      (status) => this.emit('jobUpdated', status),
      (err) => this.checkDamage(err),
    );
    this.annotations = new AnnotationService(store);
    this.labels = new LabelService(store);
    this.importer = new ImportService(store);
    this.exporter = new ExportService(store, this.audio);
    this.relinker = new RelinkService(store);
    this.waveforms = new WaveformService(store, this.audio);
    this.predictions = new PredictionService(store, this.annotations);
  }

  static open(file: string, options?: { create?: boolean; name?: string }): Studio {
    return new Studio(ProjectStore.open(file, options));
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

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners) l(event, payload);
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
        const m = store.activeModelId ? store.models.byId(store.activeModelId) : undefined;
        return m ? { id: m.id, name: m.name, version: m.version } : null;
      })(),
      inference: this.predictions.lastDevice,
    };
  }

  async close(): Promise<void> {
    await this.jobs.shutdown();
    await this.predictions.close();
    this.store.close();
  }
}
