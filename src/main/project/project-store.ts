import fs from 'node:fs';
import path from 'node:path';
import { AnnotationsRepository } from '../db/annotations-repository';
import { LabelsRepository } from '../db/labels-repository';
import { MetaRepository } from '../db/meta-repository';
import { ModelsRepository } from '../db/models-repository';
import { openDatabase, type Db } from '../db/open-database';
import { forgetVerified, recordVerified } from '../db/verified-stamp';
import { studioDataDir } from '../paths';
import { RecordingsRepository } from '../db/recordings-repository';
import { SegmentsRepository } from '../db/segments-repository';
import { UtterancesRepository, type RowContext } from '../db/utterances-repository';
import { UtteranceFilter, type UtteranceRow } from '../../shared/contract';

export const DEFAULT_ANNOTATOR = 'annotator';

/** Where the verified stamps of cleanly closed projects live (db/verified-stamp.ts). */
export const verifiedStampsDir = () => path.join(studioDataDir(), 'verified-projects');

/** One open project file: its database and the repositories over it. Services receive this. */
export class ProjectStore {
  readonly recordings: RecordingsRepository;
  readonly utterances: UtterancesRepository;
  readonly labels: LabelsRepository;
  readonly annotations: AnnotationsRepository;
  readonly meta: MetaRepository;
  readonly models: ModelsRepository;
  /** Segment rows, snapshots and the segment-edit history. */
  readonly segments: SegmentsRepository;
  /** Recordings whose file is not where the project expects it. */
  readonly missingRecordings = new Set<number>();
  /**
   * How the file was known sound when opened: SQLite's quick_check, a verified stamp of this app's last
   * clean close (db/verified-stamp.ts), or a new file.
   */
  integrity: 'quick_check' | 'verified-stamp' | 'new' = 'new';

  private constructor(
    readonly file: string,
    readonly db: Db,
  ) {
    this.recordings = new RecordingsRepository(db);
    this.utterances = new UtterancesRepository(db);
    this.labels = new LabelsRepository(db);
    this.annotations = new AnnotationsRepository(db);
    this.meta = new MetaRepository(db);
    this.models = new ModelsRepository(db);
    this.segments = new SegmentsRepository(db);
  }

  static open(file: string, options: { create?: boolean; name?: string } = {}): ProjectStore {
    const resolved = path.resolve(file);
    const report: { integrity?: 'quick_check' | 'verified-stamp' } = {};
    const db = openDatabase(resolved, { create: options.create ?? true, verifiedStamps: verifiedStampsDir(), report });
    const store = new ProjectStore(resolved, db);
    store.integrity = report.integrity ?? 'new';
    if (store.meta.get('name') === undefined) {
      store.meta.set('name', options.name ?? path.basename(resolved).replace(/\.(sqlite|db)$/i, ''));
      store.meta.set('created_at', new Date().toISOString());
    }
    store.refreshMissing();
    return store;
  }

  get name(): string {
    return this.meta.get('name') ?? path.basename(this.file);
  }

  /**
   * Who is labelling in this session (this process: a window, a host, a CLI run), so that undo/redo
   * and "labelled" counts follow that person, whatever another process on the same project does. The
   * project keeps the last one chosen only as the default for the next session.
   */
  get annotator(): string {
    this.sessionAnnotator ??= this.meta.get('annotator') ?? DEFAULT_ANNOTATOR;
    return this.sessionAnnotator;
  }

  set annotator(name: string) {
    this.sessionAnnotator = name;
    this.meta.set('annotator', name);
  }

  private sessionAnnotator: string | undefined;

  /** The model whose predictions the project shows (set when a model first runs, or by the user). */
  get activeModelId(): number | null {
    // Older versions stored "none" as ''.
    const v = this.meta.get('active_model_id');
    return v === undefined || v === '' ? null : Number(v);
  }

  set activeModelId(id: number | null) {
    if (id === null) this.meta.delete('active_model_id');
    else this.meta.set('active_model_id', String(id));
  }

  rowContext(): RowContext {
    return { annotator: this.annotator, missing: this.missingRecordings, modelId: this.activeModelId };
  }

  /** List rows for the current annotator and active model; the filter's defaults fill what is left out. */
  rows(filter: Partial<UtteranceFilter> = {}): UtteranceRow[] {
    return this.utterances.list(UtteranceFilter.parse(filter), this.rowContext());
  }

  row(utteranceId: number): UtteranceRow | undefined {
    return this.utterances.row(utteranceId, this.rowContext());
  }

  /**
   * Runs `fn` in one write transaction, committed (and so on disk) when it returns. IMMEDIATE: the write
   * lock is taken first, so another process's commit makes it wait (busy timeout), never fail.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  refreshMissing(): void {
    this.missingRecordings.clear();
    for (const r of this.recordings.list()) if (!fs.existsSync(r.path)) this.missingRecordings.add(r.id);
  }

  /**
   * Closes the file. A clean close of a file that opened sound (it passed its check) and showed no
   * damage since stamps it verified, so the next open can skip the full check; `damaged`: forget it.
   */
  close(options: { damaged?: boolean } = {}): void {
    if (!this.db.open) return;
    this.db.close();
    if (options.damaged) forgetVerified(verifiedStampsDir(), this.file);
    else recordVerified(verifiedStampsDir(), this.file);
  }
}
