import type { JobStatus, RelinkReport, StudioClient } from '../../../../shared/contract';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

/**
 * One relink, as the Relink dialog starts and follows it: the core looks in a folder for the missing
 * recordings (same size and checksum) and points the project at them. The list and the counts follow
 * the core's `utterancesChanged` (relinked) event, not this. Made per opening of the dialog.
 */
export class RelinkState {
  readonly #run: JobRun<'relink'>;

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.#run = new JobRun(jobs, 'relink');
  }

  get busy(): boolean {
    return this.#run.busy;
  }
  /** The job's live status while it runs. */
  get status(): JobStatus | undefined {
    return this.#run.status;
  }
  /** The core's refusal, or why the job failed. */
  get error(): string | null {
    return this.#run.error;
  }
  get result(): RelinkReport | null {
    return this.#run.result;
  }

  /** The desktop's native folder chooser; null in web mode (PathField's web picker then). */
  get chooseFolder(): (() => Promise<string | null>) | null {
    return this.client.chooseFolder;
  }

  /** Searches `folder` (trimmed); nothing while one runs or for an empty folder. */
  async start(folder: string): Promise<void> {
    const target = folder.trim();
    if (!target || this.#run.busy) return;
    await this.#run.start(() => this.client.startRelink({ folder: target }));
  }

  async cancel(): Promise<void> {
    await this.#run.cancel();
  }
}
