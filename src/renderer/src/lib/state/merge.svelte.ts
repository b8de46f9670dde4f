import type { JobStatus, MergeReport, MergeUndoReport, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

/**
 * One opening of the Merge a copy dialog: the merge job it starts and follows to its report, and the
 * undo of that merge as one step. The list, labels, counts and roster follow the core's events, not
 * this.
 */
export class MergeState {
  readonly #run: JobRun<'merge'>;
  #undone = $state.raw<MergeUndoReport | null>(null);
  #undoError = $state<string | null>(null);
  #undoing = $state(false);
  /** The copy whose merge changed the project and is shown (not undone): merging it again is not offered. */
  #mergedCopy = $state<string | null>(null);

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.#run = new JobRun(jobs, 'merge');
  }

  get busy(): boolean {
    return this.#run.busy;
  }
  /** The job's live status while it runs. */
  get status(): JobStatus | undefined {
    return this.#run.status;
  }
  /** Why the core refused the merge (or the job failed). */
  get error(): string | null {
    return this.#run.error;
  }
  get report(): MergeReport | null {
    return this.#run.result;
  }
  /** What the undo reverted, once the merge shown is undone. */
  get undone(): MergeUndoReport | null {
    return this.#undone;
  }
  get undoError(): string | null {
    return this.#undoError;
  }
  get undoing(): boolean {
    return this.#undoing;
  }
  /** The merge shown changed the project and can be undone from here. */
  get canUndo(): boolean {
    const report = this.#run.result;
    return !!report && !report.nothingChanged && !this.#undone;
  }
  /** The desktop's native chooser for the copy's file; null in web mode (the host's picker then). */
  get chooseCopy(): (() => Promise<string | null>) | null {
    const choose = this.client.chooseProjectFile;
    return choose ? () => choose('open') : null;
  }

  /** `copy` (trimmed) can be merged: given, none running, and not the copy just merged. */
  canMerge(copy: string): boolean {
    const target = copy.trim();
    return !!target && !this.#run.busy && target !== this.#mergedCopy;
  }

  /** Merges `copy` (trimmed) and resolves when the job has ended; nothing when it cannot be merged now. */
  async merge(copy: string): Promise<void> {
    if (!this.canMerge(copy)) return;
    const target = copy.trim();
    this.#undone = null;
    this.#undoError = null;
    this.#mergedCopy = null;
    await this.#run.start(() => this.client.startMerge({ copy: target }));
    const report = this.#run.result;
    if (report && !report.nothingChanged) this.#mergedCopy = target;
  }

  async cancel(): Promise<void> {
    await this.#run.cancel();
  }

  /** Undoes the latest merge; a refusal is kept as `undoError`. */
  async undo(): Promise<void> {
    this.#undoing = true;
    this.#undoError = null;
    try {
      this.#undone = await this.client.undoMerge({});
      this.#mergedCopy = null;
    } catch (err) {
      this.#undoError = errorMessage(err);
    } finally {
      this.#undoing = false;
    }
  }
}
