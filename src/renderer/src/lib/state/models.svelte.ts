import type { Device, ModelInfo, PredictionReport, StudioClient, UtteranceFilter } from '../../../../shared/contract';
import { errorMessage } from '../util/format';
import { JobRun } from './job-run.svelte';
import type { JobsState } from './jobs.svelte';

/** What a model run covers and where it runs. */
export interface RunOptions {
  /** Only the utterances this filter lists; the whole project when null. */
  filter: UtteranceFilter | null;
  device: Device;
  /** Re-run utterances this model version has already predicted. */
  recompute: boolean;
}

/**
 * The project's models (the active one predicts) and the latest model run, which outlives the
 * Run model dialog: closing the dialog leaves the run going, with its progress in the status bar.
 */
export class ModelsState {
  models = $state.raw<ModelInfo[]>([]);
  loading = $state(false);
  /** The list has been asked for at least once (until then, "no model" is not known). */
  loaded = $state(false);
  /** Why the model list could not be loaded or changed, if it could not. */
  error = $state<string | null>(null);
  readonly run: JobRun<'predict'>;
  /** The options of the latest run, to show them again in the dialog. */
  lastOptions = $state.raw<RunOptions>({ filter: null, device: 'auto', recompute: false });

  active = $derived(this.models.find((m) => m.active) ?? null);

  constructor(
    private readonly client: StudioClient,
    jobs: JobsState,
  ) {
    this.run = new JobRun(jobs, 'predict');
  }

  /** The desktop's native folder chooser, for a model bundle to add; null in web mode (typed in). */
  get chooseBundleFolder(): (() => Promise<string | null>) | null {
    return this.client.chooseFolder;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.models = await this.client.listModels({});
      this.error = null;
    } catch (err) {
      this.error = `Could not list the models: ${errorMessage(err)}`;
    } finally {
      this.loading = false;
      this.loaded = true;
    }
  }

  /** Adds (and activates) a model bundle folder; returns the core's validation message, if any. */
  async add(path: string): Promise<string | null> {
    try {
      this.models = await this.client.addModel({ path });
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async setActive(id: number): Promise<string | null> {
    try {
      this.models = await this.client.setActiveModel({ id });
      this.error = null;
      return null;
    } catch (err) {
      this.error = `Could not switch the model: ${errorMessage(err)}`;
      return this.error;
    }
  }

  /** Starts a run and resolves with its report (null when it failed or was refused). */
  async start(options: RunOptions): Promise<PredictionReport | null> {
    if (this.run.busy) return null;
    this.lastOptions = options;
    await this.run.start(() =>
      this.client.startPrediction({
        device: options.device,
        recompute: options.recompute,
        ...(options.filter ? { filter: options.filter } : {}),
      }),
    );
    return this.run.result;
  }

  async cancel(): Promise<void> {
    await this.run.cancel();
  }
}
