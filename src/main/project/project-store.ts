import fs from 'node:fs';
import path from 'node:path';
import { AnnotationsRepository } from '../db/annotations-repository';
import { LabelsRepository } from '../db/labels-repository';
import { MetaRepository } from '../db/meta-repository';
import { openDatabase, type Db } from '../db/open-database';
import { RecordingsRepository } from '../db/recordings-repository';
import { UtterancesRepository } from '../db/utterances-repository';

export const DEFAULT_ANNOTATOR = 'annotator';

/** One open project file: its database and the repositories over it. Services receive this. */
export class ProjectStore {
  readonly recordings: RecordingsRepository;
  readonly utterances: UtterancesRepository;
  readonly labels: LabelsRepository;
  readonly annotations: AnnotationsRepository;
  readonly meta: MetaRepository;
  /** Recordings whose file is not where the project expects it. */
  readonly missingRecordings = new Set<number>();

  private constructor(
    readonly file: string,
    readonly db: Db,
  ) {
    this.recordings = new RecordingsRepository(db);
    this.utterances = new UtterancesRepository(db);
    this.labels = new LabelsRepository(db);
    this.annotations = new AnnotationsRepository(db);
    this.meta = new MetaRepository(db);
  }

  static open(file: string, options: { create?: boolean; name?: string } = {}): ProjectStore {
    const resolved = path.resolve(file);
    const store = new ProjectStore(resolved, openDatabase(resolved, { create: options.create ?? true }));
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

  get annotator(): string {
    return this.meta.get('annotator') ?? DEFAULT_ANNOTATOR;
  }

  set annotator(name: string) {
    this.meta.set('annotator', name);
  }

  /** Runs `fn` in one transaction (committed, and so on disk, when it returns). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  refreshMissing(): void {
    this.missingRecordings.clear();
    for (const r of this.recordings.list()) if (!fs.existsSync(r.path)) this.missingRecordings.add(r.id);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
