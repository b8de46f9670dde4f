import type { JobStatus, StudioClient, TrainingReport } from '../../../../shared/contract';
import { errorMessage } from '../util/format';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

/** Where a training run starts: the active model (fine-tuning) or scratch. */
export type TrainingStart = 'active' | 'scratch';

/**
 * One opening of the Train model dialog: the training job it starts and follows (live epochs from
 * the job's metrics, then the report), and the activation of the model it trained. The models list
 * follows the core's `modelsChanged` event, not this.
 */
export class TrainingState {
  readonly #run: JobRun<'train'>;
  #activated = $state(false);
  #activateError = $state<string | null>(null);

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.#run = new JobRun(jobs, 'train');
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
  /** The job's live figures (epoch, epochs, loss, validationUA, trainerEtaSeconds, curve). */
  get metrics(): Record<string, number | string> {
    return this.#run.status?.metrics ?? {};
  }
  /** The curve so far, [[epoch, loss, validation UA], ...]: the report's once there is one. */
  get curve(): (readonly [number, number, number])[] {
    const report = this.#run.result;
    if (report) return report.epochs.map((e) => [e.epoch, e.loss, e.validationUA] as const);
    const c = this.metrics.curve;
    if (typeof c !== 'string') return [];
    try {
      return JSON.parse(c) as [number, number, number][];
    } catch {
      return [];
    }
  }
  /** The core's refusal, or why the job failed. */
  get error(): string | null {
    return this.#run.error;
  }
  get report(): TrainingReport | null {
    return this.#run.result;
  }
  /** The trained model has been made the active one. */
  get activated(): boolean {
    return this.#activated;
  }
  /** The core's refusal to activate it, if it refused. */
  get activateError(): string | null {
    return this.#activateError;
  }

  /** Trains; nothing while a run is going. */
  async train(epochs: number, start: TrainingStart): Promise<void> {
    if (this.#run.busy) return;
    this.#activated = false;
    await this.#run.start(() => this.client.startTraining({ epochs, start }));
  }

  async cancel(): Promise<void> {
    await this.#run.cancel();
  }

  /** Makes the trained model the active one. */
  async activate(): Promise<void> {
    const report = this.#run.result;
    if (!report) return;
    try {
      await this.client.setActiveModel({ id: report.trained.model.id });
      this.#activated = true;
      this.#activateError = null;
    } catch (err) {
      this.#activateError = errorMessage(err);
    }
  }
}
