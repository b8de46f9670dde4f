import type { ExportRequest, ExportSummary, JobStatus, StudioClient } from '../../../../shared/contract';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

/**
 * One opening of the Export dialog: the export job it starts (the request the dialog's form makes)
 * and follows to its summary.
 */
export class ExportState {
  readonly #run: JobRun<'export'>;
  /** Whether the export shown wrote one row per annotator (its rows are annotations, not utterances). */
  #perAnnotator = $state(false);

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.#run = new JobRun(jobs, 'export');
  }

  get busy(): boolean {
    return this.#run.busy;
  }
  get cancelled(): boolean {
    return this.#run.phase === 'cancelled';
  }
  /** The job's live status while it runs. */
  get status(): JobStatus | undefined {
    return this.#run.status;
  }
  /** The core's refusal, or why the job failed. */
  get error(): string | null {
    return this.#run.error;
  }
  get summary(): ExportSummary | null {
    return this.#run.result;
  }
  /** The export shown (or running) wrote one row per annotator of each labelled utterance. */
  get perAnnotator(): boolean {
    return this.#perAnnotator;
  }

  /** The desktop's native folder chooser; null in web mode (PathField's web picker then). */
  get chooseFolder(): (() => Promise<string | null>) | null {
    return this.client.chooseFolder;
  }

  /** Exports (the folder trimmed) and resolves when the job has ended; nothing without a folder or while one runs. */
  async start(request: ExportRequest): Promise<void> {
    const folder = request.folder.trim();
    if (!folder || this.#run.busy) return;
    this.#perAnnotator = request.rowPerAnnotator === true;
    await this.#run.start(() => this.client.startExport({ ...request, folder }));
  }

  async cancel(): Promise<void> {
    await this.#run.cancel();
  }
}
